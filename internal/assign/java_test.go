package assign

import (
	"bytes"
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/gregorkafka/gregor/internal/testcluster"
)

// assignorCheckJava runs the Java client's own RangeAssignor and
// RoundRobinAssignor over cases read from stdin, one per line:
//
//	<range|roundrobin> <topic:count,...> <member/instance/topic+topic;...>
//
// and prints each member's assignment in the order given, in the format of
// formatAssignment.
const assignorCheckJava = `
import java.io.*;
import java.nio.charset.StandardCharsets;
import java.util.*;
import org.apache.kafka.clients.consumer.*;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor.Subscription;
import org.apache.kafka.clients.consumer.internals.AbstractPartitionAssignor;
import org.apache.kafka.common.TopicPartition;

public class AssignorCheck {
    public static void main(String[] args) throws Exception {
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, "UTF-8");
        String line;
        while ((line = in.readLine()) != null) {
            String[] f = line.split(" ", -1);
            AbstractPartitionAssignor a = f[0].equals("range") ? new RangeAssignor() : new RoundRobinAssignor();
            Map<String, Integer> parts = new HashMap<>();
            if (!f[1].isEmpty()) {
                for (String t : f[1].split(",")) {
                    String[] kv = t.split(":");
                    parts.put(kv[0], Integer.parseInt(kv[1]));
                }
            }
            Map<String, Subscription> subs = new HashMap<>();
            List<String> order = new ArrayList<>();
            for (String m : f[2].split(";")) {
                String[] mf = m.split("/", -1);
                Subscription s = new Subscription(Arrays.asList(mf[2].split("\\+")));
                if (!mf[1].isEmpty()) s.setGroupInstanceId(Optional.of(mf[1]));
                subs.put(mf[0], s);
                order.add(mf[0]);
            }
            Map<String, List<TopicPartition>> res = a.assign(parts, subs);
            StringBuilder sb = new StringBuilder();
            for (String id : order) {
                TreeMap<String, TreeSet<Integer>> byTopic = new TreeMap<>();
                for (TopicPartition tp : res.get(id)) {
                    byTopic.computeIfAbsent(tp.topic(), k -> new TreeSet<>()).add(tp.partition());
                }
                sb.append(id).append('=');
                for (Map.Entry<String, TreeSet<Integer>> e : byTopic.entrySet()) {
                    sb.append(e.getKey()).append(':');
                    StringJoiner j = new StringJoiner(",");
                    for (Integer p : e.getValue()) j.add(p.toString());
                    sb.append(j).append(';');
                }
                sb.append('|');
            }
            out.println(sb);
        }
    }
}
`

// formatAssignment prints an assignment as the Java program does.
func formatAssignment(members []groupMember, got groupAssignment) string {
	var b strings.Builder
	for _, m := range members {
		b.WriteString(m.id)
		b.WriteByte('=')
		topics := make([]string, 0, len(got[m.id]))
		for tp, ps := range got[m.id] {
			if len(ps) > 0 {
				topics = append(topics, tp)
			}
		}
		slices.SortFunc(topics, compareJava)
		for _, tp := range topics {
			b.WriteString(tp)
			b.WriteByte(':')
			for i, p := range got[m.id][tp] {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString(strconv.Itoa(int(p)))
			}
			b.WriteByte(';')
		}
		b.WriteByte('|')
	}
	return b.String()
}

func formatCase(c assignmentCase) string {
	var b strings.Builder
	b.WriteString(c.assignor.protocolName())
	b.WriteByte(' ')
	first := true
	for tp, n := range c.partitions {
		if !first {
			b.WriteByte(',')
		}
		first = false
		b.WriteString(tp + ":" + strconv.Itoa(int(n)))
	}
	b.WriteByte(' ')
	for i, m := range c.members {
		if i > 0 {
			b.WriteByte(';')
		}
		inst := ""
		if m.instanceID != nil {
			inst = *m.instanceID
		}
		b.WriteString(m.id + "/" + inst + "/" + strings.Join(m.topics, "+"))
	}
	return b.String()
}

// TestJavaAssignorsMatchJavaClient runs the Java client's assignors on the
// same generated groups and requires identical assignments, so gregor and
// Java consumers can share a group whichever is elected leader.
func TestJavaAssignorsMatchJavaClient(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the Java client; skipped with -short")
	}
	if _, err := exec.LookPath("java"); err != nil {
		t.Skip("java not installed")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	cp, err := testcluster.Classpath(ctx, testcluster.KRaftVersion)
	require.NoError(t, err)
	src := filepath.Join(t.TempDir(), "AssignorCheck.java")
	require.NoError(t, os.WriteFile(src, []byte(assignorCheckJava), 0o644))

	cases := assignmentCases(rand.New(rand.NewPCG(5, 6)), 600)
	var in bytes.Buffer
	for _, c := range cases {
		in.WriteString(formatCase(c) + "\n")
	}
	cmd := exec.CommandContext(ctx, "java", "-cp", cp, src)
	cmd.Stdin = &in
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "java: %s", stderr.String())
	lines := strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	require.Len(t, lines, len(cases))
	for i, c := range cases {
		got := formatAssignment(c.members, c.assignor.assign(c.members, c.partitions))
		require.Equal(t, lines[i], got, "case %d: %s", i, formatCase(c))
	}
}
