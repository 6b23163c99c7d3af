// Runs the Java client's sticky assignors on scenarios read from stdin and
// prints their assignments, for comparison with gregor's. Input lines:
//
//	assignor sticky|cooperative-sticky
//	topic NAME PARTITIONS
//	member ID GENERATION USERDATA_HEX|- TOPIC,... OWNED|-   (OWNED: t:0,1;u:2)
//	run NAME
//
// Each run prints "NAME MEMBER topic:p,p ..." per member, in input order,
// topics sorted, partitions in the assignor's order, then resets.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.util.*;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.Subscription;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.consumer.StickyAssignor;
import org.apache.kafka.clients.consumer.internals.AbstractStickyAssignor;
import org.apache.kafka.common.TopicPartition;

public class StickyReference {
    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
        String assignor = "sticky";
        Map<String, Integer> topics = new HashMap<>();
        Map<String, Subscription> subs = new HashMap<>();
        List<String> order = new ArrayList<>();
        for (String line; (line = in.readLine()) != null; ) {
            String[] f = line.trim().split(" ");
            switch (f[0]) {
                case "assignor":
                    assignor = f[1];
                    break;
                case "topic":
                    topics.put(f[1], Integer.parseInt(f[2]));
                    break;
                case "member": {
                    ByteBuffer ud = f[3].equals("-") ? null : ByteBuffer.wrap(HexFormat.of().parseHex(f[3]));
                    List<TopicPartition> owned = new ArrayList<>();
                    if (!f[5].equals("-")) {
                        for (String tps : f[5].split(";")) {
                            String[] kv = tps.split(":");
                            for (String p : kv[1].split(",")) owned.add(new TopicPartition(kv[0], Integer.parseInt(p)));
                        }
                    }
                    subs.put(f[1], new Subscription(Arrays.asList(f[4].split(",")), ud, owned,
                            Integer.parseInt(f[2]), Optional.empty()));
                    order.add(f[1]);
                    break;
                }
                case "run": {
                    AbstractStickyAssignor a = assignor.equals("sticky") ? new StickyAssignor() : new CooperativeStickyAssignor();
                    Map<String, List<TopicPartition>> out = a.assign(topics, subs);
                    for (String m : order) {
                        StringBuilder sb = new StringBuilder(f[1] + " " + m);
                        TreeMap<String, List<Integer>> byTopic = new TreeMap<>();
                        for (TopicPartition tp : out.get(m))
                            byTopic.computeIfAbsent(tp.topic(), k -> new ArrayList<>()).add(tp.partition());
                        byTopic.forEach((t, ps) -> {
                            sb.append(" ").append(t).append(":");
                            for (int i = 0; i < ps.size(); i++) sb.append(i > 0 ? "," : "").append(ps.get(i));
                        });
                        System.out.println(sb);
                    }
                    topics = new HashMap<>();
                    subs = new HashMap<>();
                    order = new ArrayList<>();
                    break;
                }
            }
        }
    }
}
