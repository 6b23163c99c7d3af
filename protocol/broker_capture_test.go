package protocol

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

// captureName is "<APIName>-v<version>.bin", as written by the harness's wire test run with -capture
// (go test ./internal/testcluster -run TestWireAgainstBrokers -args -capture).
var captureName = regexp.MustCompile(`^([A-Za-z]+)-v(\d+)\.bin$`)

// TestDecodeCapturedBrokerResponses decodes response frames recorded from real Kafka 4.x and 3.9 brokers, and
// the record data inside every captured Fetch response, so the decoders are checked against what brokers really
// send even when no broker is running. Re-encoding a decoded response must give the broker's bytes back.
func TestDecodeCapturedBrokerResponses(t *testing.T) {
	dirs, _ := filepath.Glob(filepath.Join("testdata", "broker", "kafka-*"))
	if len(dirs) < 2 {
		t.Fatalf("want captures from two Kafka versions in testdata/broker, found %v", dirs)
	}
	keys := map[string]int16{}
	for _, k := range APIKeys() {
		keys[APIName(k)] = k
	}
	for _, dir := range dirs {
		files, _ := filepath.Glob(filepath.Join(dir, "*.bin"))
		for _, f := range files {
			m := captureName.FindStringSubmatch(filepath.Base(f))
			if m == nil {
				t.Fatalf("unexpected capture file %s", f)
			}
			key, ok := keys[m[1]]
			if !ok {
				t.Fatalf("%s: unknown API %s", f, m[1])
			}
			v, _ := strconv.Atoi(m[2])
			t.Run(filepath.Base(dir)+"/"+m[1]+"-v"+m[2], func(t *testing.T) {
				frame, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				resp, _ := NewResponse(key)
				corr, err := DecodeResponseFrame(frame, resp, int16(v))
				if err != nil {
					t.Fatalf("decode: %v", err)
				}
				again, err := AppendResponseFrame(nil, resp, int16(v), corr)
				if err != nil {
					t.Fatalf("re-encode: %v", err)
				}
				if string(again[4:]) != string(frame) {
					t.Fatalf("re-encoded frame differs from the broker's (%d vs %d bytes)", len(again)-4, len(frame))
				}
				if fetch, ok := resp.(*FetchResponse); ok {
					for _, tp := range fetch.Responses {
						for _, p := range tp.Partitions {
							var d RecordDecoder
							recs, _, err := d.AppendRecords(nil, p.Records)
							if err != nil {
								t.Fatalf("records: %v", err)
							}
							if len(p.Records) > 0 && len(recs) == 0 {
								t.Fatalf("no records decoded from %d bytes", len(p.Records))
							}
						}
					}
				}
			})
		}
	}
}
