// Package sasl authenticates Kafka connections with SASL: PLAIN, SCRAM-SHA-256,
// SCRAM-SHA-512 and OAUTHBEARER, and any other mechanism that implements
// Mechanism (AWS MSK IAM, GSSAPI), without changes to gregor.
//
// A Mechanism only computes messages; it does no I/O. Authenticate drives it
// over a connection: SaslHandshake v1 names the mechanism, then each message
// travels in a SaslAuthenticate request at the highest version the broker
// offers, and the broker's answer is the next challenge. The broker's
// session lifetime (SaslAuthenticate v1+, KIP-368) is returned so that the
// connection can authenticate again before it ends; the kafka package does
// that through conn.Config.Authenticate.
//
// Failures are *Error values: errors.Is(err, protocol.ErrSASLAuthenticationFailed)
// holds for rejected credentials, errors.Is(err, protocol.ErrUnsupportedSASLMechanism)
// for a mechanism the broker does not enable (Error.Enabled lists those it
// does), and errors.Is(err, ErrServerProof) for a SCRAM server that could not
// prove it knows the password.
package sasl
