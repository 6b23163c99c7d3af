package main

import (
	"regexp"
	"strings"
	"unicode"
)

var wordRE = regexp.MustCompile(`[A-Z][a-z0-9]*|[a-z0-9]+`)

// initialisms are the words Go style writes in capitals.
var initialisms = map[string]string{"Id": "ID", "Ids": "IDs", "Api": "API"}

// goName turns a schema name into a Go identifier: "TopicId" -> "TopicID",
// "ApiKeys" -> "APIKeys".
func goName(s string) string {
	var b strings.Builder
	for _, w := range wordRE.FindAllString(s, -1) {
		if r, ok := initialisms[w]; ok {
			w = r
		}
		b.WriteString(w)
	}
	out := b.String()
	if out == "" || !unicode.IsUpper(rune(out[0])) {
		out = strings.ToUpper(out[:1]) + out[1:]
	}
	return out
}

// snakeName gives a file name part: "OffsetForLeaderEpoch" ->
// "offset_for_leader_epoch".
func snakeName(s string) string {
	words := wordRE.FindAllString(s, -1)
	for i, w := range words {
		words[i] = strings.ToLower(w)
	}
	return strings.Join(words, "_")
}

// structGoName names a nested struct of message m.
func structGoName(m *message, schemaName string) string {
	if r, ok := structRenames[m.schemaName+"."+schemaName]; ok {
		return m.goName + r
	}
	if strings.HasPrefix(schemaName, m.schemaName) {
		return goName(schemaName)
	}
	rest := schemaName
	if t, ok := strings.CutPrefix(rest, m.apiName); ok && t != "" && unicode.IsUpper(rune(t[0])) {
		rest = t
	}
	for _, suffix := range []string{"Request", "Response"} {
		if t, ok := strings.CutSuffix(rest, suffix); ok && t != "" && strings.HasSuffix(m.schemaName, suffix) {
			rest = t
		}
	}
	return m.goName + goName(rest)
}
