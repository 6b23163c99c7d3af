// Package archtest holds tests that check rules about the code itself
// rather than its behaviour: which calls conn/ and kafka/ may make. It has
// no non-test code.
package archtest
