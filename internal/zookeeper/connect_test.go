package zookeeper

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseZooKeeperConnect(t *testing.T) {
	for _, tc := range []struct {
		in      string
		servers []string
		chroot  string
	}{
		{"zk:2181", []string{"zk:2181"}, ""},
		{"zk", []string{"zk:2181"}, ""},
		{"h1:2181,h2:2182", []string{"h1:2181", "h2:2182"}, ""},
		{"h1:2181, h2 ,h3:3000/kafka", []string{"h1:2181", "h2:2181", "h3:3000"}, "/kafka"},
		{"h1:2181/kafka/prod", []string{"h1:2181"}, "/kafka/prod"},
		{"h1:2181/", []string{"h1:2181"}, ""},
		{"[::1]:2181/k", []string{"[::1]:2181"}, "/k"},
		{"[::1]", []string{"[::1]:2181"}, ""},
	} {
		t.Run(tc.in, func(t *testing.T) {
			zc, err := ParseConnect(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.servers, zc.Servers)
			assert.Equal(t, tc.chroot, zc.Chroot)
		})
	}
	for _, bad := range []string{"", "/kafka", " ", "h1,,h2", "h1:2181/kafka/", "h1/a//b", "h1/../x", "h1:0", "h1:x", "::1", "h1:2181:3"} {
		t.Run("bad "+bad, func(t *testing.T) {
			_, err := ParseConnect(bad)
			assert.Error(t, err)
		})
	}
}

func TestParseBrokerRegistration(t *testing.T) {
	for _, tc := range []struct {
		name, json, want string
	}{
		{
			name: "kafka 3.x",
			json: `{"features":{},"listener_security_protocol_map":{"PLAINTEXT":"PLAINTEXT"},` +
				`"endpoints":["PLAINTEXT://127.0.0.1:41234"],"jmx_port":-1,"port":41234,"host":"127.0.0.1","version":5,"timestamp":"1700000000000"}`,
			want: "127.0.0.1:41234",
		},
		{
			name: "named listeners",
			json: `{"listener_security_protocol_map":{"EXTERNAL":"SSL","INTERNAL":"PLAINTEXT"},` +
				`"endpoints":["EXTERNAL://pub.example:9093","INTERNAL://kafka-1.internal:9092"],"host":null,"port":-1,"version":4}`,
			want: "kafka-1.internal:9092",
		},
		{
			name: "old registration, no endpoints",
			json: `{"jmx_port":-1,"timestamp":"1","host":"broker1","version":1,"port":9092}`,
			want: "broker1:9092",
		},
		{
			name: "endpoints without a protocol map",
			json: `{"endpoints":["SSL://b:9093","PLAINTEXT://b:9092"],"host":"b","port":9092,"version":2}`,
			want: "b:9092",
		},
		{
			name: "ipv6",
			json: `{"listener_security_protocol_map":{"PLAINTEXT":"PLAINTEXT"},"endpoints":["PLAINTEXT://[::1]:9092"]}`,
			want: "[::1]:9092",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseBrokerRegistration([]byte(tc.json))
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	for _, bad := range []string{
		`not json`,
		`{"listener_security_protocol_map":{"SSL":"SSL"},"endpoints":["SSL://b:9093"],"host":null,"port":-1}`,
		`{"endpoints":["PLAINTEXT://:9092"],"host":"","port":0}`,
		`{}`,
	} {
		_, err := parseBrokerRegistration([]byte(bad))
		assert.Error(t, err, bad)
	}
}

// A broker registration is read from ZooKeeper, where anyone with access
// may have written anything: it parses to a usable host:port or an error.
func FuzzParseBrokerRegistration(f *testing.F) {
	f.Add([]byte(`{"listener_security_protocol_map":{"PLAINTEXT":"PLAINTEXT"},"endpoints":["PLAINTEXT://127.0.0.1:41234"]}`))
	f.Add([]byte(`{"host":"broker1","port":9092}`))
	f.Add([]byte(`{"endpoints":["PLAINTEXT://[::1]:9092"]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		addr, err := parseBrokerRegistration(data)
		if err != nil {
			return
		}
		require.NoError(t, checkHostPort(addr), "%q from %q", addr, data)
	})
}

// A connect string comes from configuration or the command line: it parses
// to servers that are each a usable host:port, and a clean chroot, or an
// error.
func FuzzParseConnect(f *testing.F) {
	for _, s := range []string{"zk:2181", "h1,h2:2182/kafka", "[::1]/a/b", "/x", "h1,,h2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		zc, err := ParseConnect(s)
		if err != nil {
			return
		}
		require.NotEmpty(t, zc.Servers)
		for _, h := range zc.Servers {
			require.NoError(t, checkHostPort(h), "%q from %q", h, s)
		}
		if zc.Chroot != "" {
			require.True(t, zc.Chroot[0] == '/' && zc.Chroot[len(zc.Chroot)-1] != '/', "chroot %q from %q", zc.Chroot, s)
		}
	})
}
