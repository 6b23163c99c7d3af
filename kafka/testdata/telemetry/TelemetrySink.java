package gregortest;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.kafka.common.metrics.KafkaMetric;
import org.apache.kafka.common.metrics.MetricsReporter;
import org.apache.kafka.server.telemetry.ClientTelemetryExporter;
import org.apache.kafka.server.telemetry.ClientTelemetryExporterProvider;

// A broker metrics reporter that accepts client telemetry (which makes the
// broker offer GetTelemetrySubscriptions and PushTelemetry) and writes every
// pushed payload to the directory in the broker property
// gregor.telemetry.dir, as N.bin, with N.meta holding
// "content-type terminating client-instance-id".
public class TelemetrySink implements MetricsReporter, ClientTelemetryExporterProvider {
    private volatile Path dir;
    private final AtomicInteger seq = new AtomicInteger();

    @Override public void configure(Map<String, ?> configs) {
        Object d = configs.get("gregor.telemetry.dir");
        if (d != null) dir = Paths.get(d.toString());
    }
    @Override public void init(List<KafkaMetric> metrics) {}
    @Override public void metricChange(KafkaMetric metric) {}
    @Override public void metricRemoval(KafkaMetric metric) {}
    @Override public void close() {}

    @Override public ClientTelemetryExporter clientTelemetryExporter() {
        return (context, payload) -> {
            if (dir == null) return;
            int n = seq.incrementAndGet();
            ByteBuffer data = payload.data().duplicate();
            byte[] b = new byte[data.remaining()];
            data.get(b);
            try {
                Files.write(dir.resolve(n + ".bin.tmp"), b);
                Files.move(dir.resolve(n + ".bin.tmp"), dir.resolve(n + ".bin"));
                Files.writeString(dir.resolve(n + ".meta"),
                    payload.contentType() + " " + payload.isTerminating() + " " + payload.clientInstanceId());
            } catch (IOException e) {
                throw new RuntimeException(e);
            }
        };
    }
}
