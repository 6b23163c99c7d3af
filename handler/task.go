package handler

import "strings"

// LabelTask is the profiler label that carries a task's name.
const LabelTask = "task"

// TaskName builds a task name that carries profiler labels besides the name
// itself: name followed by " key=value" for each pair in kv, e.g.
// TaskName("kafka-fetch", "broker", "1") is "kafka-fetch broker=1". Handlers
// run every task under the pprof labels TaskLabels derives from its name, so
// a CPU or goroutine profile can be filtered by task, broker or topic. A
// trailing key without a value is dropped; spaces and '=' inside keys and
// values are replaced by '_' so the name splits back unambiguously.
func TaskName(name string, kv ...string) string {
	if len(kv) < 2 {
		return name
	}
	var b strings.Builder
	b.WriteString(name)
	for i := 0; i+1 < len(kv); i += 2 {
		b.WriteByte(' ')
		b.WriteString(labelSafe(kv[i]))
		b.WriteByte('=')
		b.WriteString(labelSafe(kv[i+1]))
	}
	return b.String()
}

// TaskLabels returns the pprof label pairs for a task name: LabelTask with
// the name's first word, then every later "key=value" word as key, value.
// Words without '=' are kept in the task label, so a plain name with spaces
// stays whole.
func TaskLabels(name string) []string {
	if !strings.Contains(name, "=") {
		return []string{LabelTask, name}
	}
	words := strings.Fields(name)
	labels := make([]string, 2, 2+2*len(words))
	var task []string
	for _, w := range words {
		if k, v, ok := strings.Cut(w, "="); ok && k != "" {
			labels = append(labels, k, v)
		} else {
			task = append(task, w)
		}
	}
	labels[0], labels[1] = LabelTask, strings.Join(task, " ")
	return labels
}

func labelSafe(s string) string {
	if !strings.ContainsAny(s, " \t\n=") {
		return s
	}
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\n', '=':
			return '_'
		}
		return r
	}, s)
}
