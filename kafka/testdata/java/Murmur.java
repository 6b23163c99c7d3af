import org.apache.kafka.common.utils.Utils;

import java.util.HexFormat;

/**
 * Prints, for each hex-encoded key given after the partition counts, the
 * Java client's murmur2 hash of the key followed by the partition its
 * default partitioner picks for each count: toPositive(murmur2(key)) % n.
 *
 * Usage: java -cp KAFKA_CLASSPATH Murmur.java N1,N2,... HEXKEY...
 * ("-" stands for the empty key.)
 */
public class Murmur {
    public static void main(String[] args) {
        String[] counts = args[0].split(",");
        for (int i = 1; i < args.length; i++) {
            byte[] key = args[i].equals("-") ? new byte[0] : HexFormat.of().parseHex(args[i]);
            int hash = Utils.murmur2(key);
            StringBuilder line = new StringBuilder().append(hash);
            for (String n : counts) {
                line.append(' ').append(Utils.toPositive(hash) % Integer.parseInt(n));
            }
            System.out.println(line);
        }
    }
}
