package assign

import (
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/gregorkafka/gregor/internal/testcluster"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stickyScenario is one input to a sticky assignor, writable in the
// format testdata/java/StickyReference.java reads.
type stickyScenario struct {
	name       string
	assignor   Sticky
	topics     []string
	partitions map[string]int32
	members    []Member
}

func (s stickyScenario) javaInput() string {
	var b strings.Builder
	fmt.Fprintf(&b, "assignor %s\n", s.assignor.Name())
	for _, t := range s.topics {
		fmt.Fprintf(&b, "topic %s %d\n", t, s.partitions[t])
	}
	for _, m := range s.members {
		ud := "-"
		if m.UserData != nil {
			ud = hex.EncodeToString(m.UserData)
		}
		owned := "-"
		if len(m.OwnedPartitions) > 0 {
			var parts []string
			for _, t := range sortedIDs(m.OwnedPartitions) {
				var ps []string
				for _, p := range m.OwnedPartitions[t] {
					ps = append(ps, fmt.Sprint(p))
				}
				parts = append(parts, t+":"+strings.Join(ps, ","))
			}
			owned = strings.Join(parts, ";")
		}
		fmt.Fprintf(&b, "member %s %d %s %s %s\n", m.MemberID, m.Generation, ud, strings.Join(m.Topics, ","), owned)
	}
	fmt.Fprintf(&b, "run %s\n", s.name)
	return b.String()
}

// formatSticky prints an assignment as StickyReference.java does.
func formatSticky(s stickyScenario, out map[string]map[string][]int32) []string {
	var lines []string
	for _, m := range s.members {
		line := s.name + " " + m.MemberID
		for _, t := range sortedIDs(out[m.MemberID]) {
			if len(out[m.MemberID][t]) == 0 {
				continue
			}
			var ps []string
			for _, p := range out[m.MemberID][t] {
				ps = append(ps, fmt.Sprint(p))
			}
			line += " " + t + ":" + strings.Join(ps, ",")
		}
		lines = append(lines, line)
	}
	return lines
}

// stickyScenarios builds rebalances a real group goes through: a fresh
// group, then members leaving and joining with what they owned in their
// subscriptions, over one topic and several, with member ids long enough
// and many enough that Java's HashMap order differs from sorted order.
func stickyScenarios(t *testing.T) []stickyScenario {
	var out []stickyScenario
	rng := rand.New(rand.NewPCG(7, 19))
	for _, coop := range []bool{false, true} {
		a := Sticky{Cooperative: coop}
		for i, shape := range []struct {
			topics  map[string]int32
			members int
		}{
			{map[string]int32{"orders": 10}, 3},
			{map[string]int32{"orders": 7}, 4},
			{map[string]int32{"a": 5, "b": 7, "c-topic": 3}, 4},
			{map[string]int32{"events": 50}, 20},
			{map[string]int32{"x": 2}, 5},
		} {
			topics := sortedIDs(shape.topics)
			var ids []string
			for j := 0; j < shape.members; j++ {
				ids = append(ids, fmt.Sprintf("consumer-%d-%08x", j, rng.Uint32()))
			}
			fresh := stickyScenario{name: fmt.Sprintf("%s-%d-fresh", a.Name(), i), assignor: a, topics: topics, partitions: shape.topics}
			for _, id := range ids {
				fresh.members = append(fresh.members, Member{MemberID: id, Topics: topics, Generation: -1})
			}
			out = append(out, fresh)
			prev, err := a.Assign(fresh.members, shape.topics)
			require.NoError(t, err)

			// The first member leaves; a new one joins with nothing.
			gen := int32(5)
			next := stickyScenario{name: fmt.Sprintf("%s-%d-churn", a.Name(), i), assignor: a, topics: topics, partitions: shape.topics}
			for _, id := range ids[1:] {
				next.members = append(next.members, ownedMember(a, id, topics, prev[id], gen))
			}
			next.members = append(next.members, Member{MemberID: "newcomer-" + fmt.Sprint(i), Topics: topics, Generation: -1})
			out = append(out, next)

			// Two members claim the same partitions, in the same and in
			// different generations.
			if len(ids) >= 3 {
				clash := stickyScenario{name: fmt.Sprintf("%s-%d-clash", a.Name(), i), assignor: a, topics: topics, partitions: shape.topics}
				for k, id := range ids {
					owned := prev[id]
					g := gen
					if k == 1 {
						owned = mergeOwned(prev[ids[1]], prev[ids[0]])
					}
					if k == 2 {
						owned, g = mergeOwned(prev[ids[2]], prev[ids[1]]), gen-1
					}
					clash.members = append(clash.members, ownedMember(a, id, topics, owned, g))
				}
				out = append(out, clash)
			}
		}
	}
	return out
}

func ownedMember(a Sticky, id string, topics []string, owned map[string][]int32, gen int32) Member {
	m := Member{MemberID: id, Topics: topics, Generation: gen, UserData: a.UserData(owned, gen)}
	if a.Cooperative {
		m.OwnedPartitions = owned
	}
	return m
}

func mergeOwned(a, b map[string][]int32) map[string][]int32 {
	out := map[string][]int32{}
	for t, ps := range a {
		out[t] = append(out[t], ps...)
	}
	for t, ps := range b {
		out[t] = append(out[t], ps...)
	}
	return out
}

const stickyReferenceFile = "testdata/sticky_java.txt"

// TestStickyAssignorMatchesJavaReference compares gregor's sticky
// assignors with the Java client's output for the same scenarios, kept in
// testdata (TestStickyAssignorMatchesJava regenerates it with
// GREGOR_UPDATE_TESTDATA=1).
func TestStickyAssignorMatchesJavaReference(t *testing.T) {
	data, err := os.ReadFile(stickyReferenceFile)
	require.NoError(t, err)
	want := strings.Split(strings.TrimSpace(string(data)), "\n")
	var got []string
	for _, s := range stickyScenarios(t) {
		out, err := s.assignor.Assign(s.members, s.partitions)
		require.NoError(t, err)
		got = append(got, formatSticky(s, out)...)
	}
	assert.Equal(t, want, got)
}

// TestStickyAssignorMatchesJava runs the Java client's assignors from the
// harness jars on the same scenarios.
func TestStickyAssignorMatchesJava(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a JVM")
	}
	java, err := exec.LookPath("java")
	if err != nil {
		t.Skip("java not on PATH")
	}
	ctx := testCtx(t)
	cp, err := testcluster.Classpath(ctx, testcluster.KRaftVersion)
	require.NoError(t, err)
	var input strings.Builder
	var got []string
	names := map[string]bool{}
	for _, s := range stickyScenarios(t) {
		names[s.name] = true
		input.WriteString(s.javaInput())
		out, err := s.assignor.Assign(s.members, s.partitions)
		require.NoError(t, err)
		got = append(got, formatSticky(s, out)...)
	}
	cmd := exec.CommandContext(ctx, java, "-cp", cp, "testdata/java/StickyReference.java")
	cmd.Stdin = strings.NewReader(input.String())
	cmd.Stderr = os.Stderr
	raw, err := cmd.Output()
	require.NoError(t, err)
	// The JVM may log to stdout too; keep the assignment lines.
	var want []string
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		if names[strings.SplitN(line, " ", 2)[0]] {
			want = append(want, line)
		}
	}
	if os.Getenv("GREGOR_UPDATE_TESTDATA") == "1" {
		require.NoError(t, os.WriteFile(stickyReferenceFile, []byte(strings.Join(want, "\n")+"\n"), 0o644))
	}
	assert.Equal(t, want, got)
}

func ownersOf(out map[string]map[string][]int32) map[topicPartition]string {
	owners := map[topicPartition]string{}
	for id, byTopic := range out {
		for t, ps := range byTopic {
			for _, p := range ps {
				owners[topicPartition{t, p}] = id
			}
		}
	}
	return owners
}

func loads(out map[string]map[string][]int32) []int {
	var l []int
	for _, byTopic := range out {
		n := 0
		for _, ps := range byTopic {
			n += len(ps)
		}
		l = append(l, n)
	}
	slices.Sort(l)
	return l
}

// TestStickyAssignorLeaveMovesOnlyLeaversPartitions: when a member leaves,
// the others keep every partition they had and take only the leaver's,
// and the result is balanced.
func TestStickyAssignorLeaveMovesOnlyLeaversPartitions(t *testing.T) {
	for _, a := range []Sticky{{}, {Cooperative: true}} {
		t.Run(a.Name(), func(t *testing.T) {
			topics := map[string]int32{"t": 12, "u": 5}
			names := []string{"t", "u"}
			var members []Member
			for _, id := range []string{"m-a", "m-b", "m-c", "m-d"} {
				members = append(members, Member{MemberID: id, Topics: names, Generation: -1})
			}
			first, err := a.Assign(members, topics)
			require.NoError(t, err)
			assert.Equal(t, []int{4, 4, 4, 5}, loads(first))
			before := ownersOf(first)

			var rest []Member
			for _, m := range members[1:] {
				rest = append(rest, ownedMember(a, m.MemberID, names, first[m.MemberID], 3))
			}
			second, err := a.Assign(rest, topics)
			require.NoError(t, err)
			assert.Equal(t, []int{5, 6, 6}, loads(second))
			after := ownersOf(second)
			assert.Len(t, after, 17, "every partition is assigned")
			for tp, owner := range after {
				if before[tp] != "m-a" {
					assert.Equal(t, before[tp], owner, "%v moved though its owner stayed", tp)
				}
			}
		})
	}
}

// TestCooperativeStickyWithholdsMovedPartitions: a partition changing
// owner is withheld from its new owner for one round, as the cooperative
// protocol requires, while the sticky assignor hands it over at once.
func TestCooperativeStickyWithholdsMovedPartitions(t *testing.T) {
	topics := map[string]int32{"t": 6}
	a := Sticky{Cooperative: true}
	members := []Member{
		ownedMember(a, "m-a", []string{"t"}, map[string][]int32{"t": {0, 1, 2}}, 4),
		ownedMember(a, "m-b", []string{"t"}, map[string][]int32{"t": {3, 4, 5}}, 4),
		{MemberID: "m-c", Topics: []string{"t"}, Generation: -1},
	}
	out, err := a.Assign(members, topics)
	require.NoError(t, err)
	assert.Equal(t, []int32{0, 1}, out["m-a"]["t"])
	assert.Equal(t, []int32{3, 4}, out["m-b"]["t"])
	assert.Empty(t, out["m-c"]["t"], "2 and 5 are revoked first, then assigned next round")

	eager, err := Sticky{}.Assign([]Member{
		ownedMember(Sticky{}, "m-a", []string{"t"}, map[string][]int32{"t": {0, 1, 2}}, 4),
		ownedMember(Sticky{}, "m-b", []string{"t"}, map[string][]int32{"t": {3, 4, 5}}, 4),
		{MemberID: "m-c", Topics: []string{"t"}, Generation: -1},
	}, topics)
	require.NoError(t, err)
	assert.Equal(t, []int32{2, 5}, eager["m-c"]["t"])
}

// TestStickyAssignorDeterministic: the result does not depend on the order
// members come in, and repeats exactly.
func TestStickyAssignorDeterministic(t *testing.T) {
	topics := map[string]int32{"t": 13, "u": 4}
	var members []Member
	for i := range 7 {
		members = append(members, Member{MemberID: fmt.Sprintf("member-%d", i), Topics: []string{"t", "u"}, Generation: -1})
	}
	want, err := Sticky{}.Assign(members, topics)
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20 {
		shuffled := slices.Clone(members)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		got, err := Sticky{}.Assign(shuffled, topics)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
}

// TestStickyAssignorUnequalSubscriptions: members subscribing to different
// topics each get only their topics, every partition is assigned, and a
// member leaving moves only its partitions.
func TestStickyAssignorUnequalSubscriptions(t *testing.T) {
	topics := map[string]int32{"t": 6, "u": 6}
	a := Sticky{}
	members := []Member{
		{MemberID: "both", Topics: []string{"t", "u"}, Generation: -1},
		{MemberID: "only-t", Topics: []string{"t"}, Generation: -1},
		{MemberID: "only-u", Topics: []string{"u"}, Generation: -1},
	}
	out, err := a.Assign(members, topics)
	require.NoError(t, err)
	require.NoError(t, Check(a.Name(), members, topics, out))
	assert.Len(t, ownersOf(out), 12)
	assert.Empty(t, out["only-t"]["u"])
	assert.Empty(t, out["only-u"]["t"])
	assert.Equal(t, []int{4, 4, 4}, loads(out))

	rest := []Member{
		ownedMember(a, "both", []string{"t", "u"}, out["both"], 2),
		ownedMember(a, "only-t", []string{"t"}, out["only-t"], 2),
	}
	second, err := a.Assign(rest, topics)
	require.NoError(t, err)
	assert.Len(t, ownersOf(second), 12)
	// Only "both" can take u's partitions, so it gives up t's to stay
	// balanced; "only-t" keeps what it had.
	assert.Equal(t, []int{6, 6}, loads(second))
	for tp, owner := range ownersOf(out) {
		if owner == "only-t" {
			assert.Equal(t, owner, ownersOf(second)[tp], "%v moved", tp)
		}
	}
}

// TestStickyUserDataJavaBytes decodes user data laid out byte by byte as
// Java's StickyAssignor schema writes it, both versions, and encodes the
// same bytes back.
func TestStickyUserDataJavaBytes(t *testing.T) {
	v0 := []byte{
		0, 0, 0, 2, // two topics
		0, 1, 'a', 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3, // "a": [0, 3]
		0, 2, 'b', 'c', 0, 0, 0, 1, 0, 0, 0, 7, // "bc": [7]
	}
	d, err := decodeStickyUserData(v0)
	require.NoError(t, err)
	assert.Equal(t, map[string][]int32{"a": {0, 3}, "bc": {7}}, d.owned)
	assert.Equal(t, int32(-1), d.generation, "version 0 has no generation")

	v1 := append(slices.Clone(v0), 0, 0, 0, 9)
	d, err = decodeStickyUserData(v1)
	require.NoError(t, err)
	assert.Equal(t, int32(9), d.generation)
	// "a" hashes to bucket 1 and "bc" to 1 too in Java's table of 16, so
	// they stay in insertion (sorted) order.
	assert.Equal(t, v1, encodeStickyUserData(d.owned, 9))

	for _, bad := range [][]byte{{0, 0, 0}, {0, 0, 0, 1, 0, 5, 'a'}, {0xff, 0xff, 0xff, 0xff}, {0, 0, 0, 1, 0, 1, 'a', 0x7f, 0, 0, 0}} {
		_, err := decodeStickyUserData(bad)
		assert.ErrorIs(t, err, errStickyUserData, "%x", bad)
	}

	// A member whose user data cannot be read keeps nothing, as in Java.
	owned, gen := Sticky{}.memberData(Member{UserData: []byte{1, 2}})
	assert.Empty(t, owned)
	assert.Equal(t, int32(-1), gen)
	gen, ok := decodeCooperativeUserData([]byte{0, 0, 1, 0})
	assert.True(t, ok)
	assert.Equal(t, int32(256), gen)
}

// TestJavaHashOrder checks the HashMap iteration order against Java's
// String.hashCode for a few known values.
func TestJavaHashOrder(t *testing.T) {
	assert.Equal(t, int32(99162322), javaStringHash("hello"))
	assert.Equal(t, int32(0), javaStringHash(""))
	// "Aa" and "BB" collide in Java; insertion order breaks the tie.
	assert.Equal(t, []string{"BB", "Aa"}, javaHashOrder([]string{"BB", "Aa"}))
	assert.Equal(t, []string{"Aa", "BB"}, javaHashOrder([]string{"Aa", "BB"}))
}

func FuzzStickyUserData(f *testing.F) {
	f.Add(encodeStickyUserData(map[string][]int32{"t": {1, 2}}, 3))
	f.Add([]byte{0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := decodeStickyUserData(b)
		if err != nil {
			if !strings.Contains(err.Error(), "sticky") {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		again, err := decodeStickyUserData(encodeStickyUserData(d.owned, d.generation))
		if err != nil {
			t.Fatal(err)
		}
		if len(again.owned) != len(d.owned) {
			t.Fatalf("round trip lost topics: %v vs %v", again.owned, d.owned)
		}
	})
}
