// Command vmcheck exercises package audit and `nlkit audit` against a
// real kernel's audit subsystem from inside a VM, where changing the
// audit configuration harms nobody: internal/vmtest's TestAuditVM boots
// Debian's kernel with it as the only program.
//
// In order, it reads the status, enables auditing, adds a watch and
// syscall rules and lists them back (field by field and in auditctl -l
// syntax), registers as the audit daemon, triggers the watch (a shell
// appending to the watched file) and an exec, and checks the grouped
// events (SYSCALL, CWD, PATH, PROCTITLE, EOE of one serial: key,
// syscall, exe, comm, path name, the decoded proctitle); then it runs
// `nlkit audit` as a user would, checks the errors an unprivileged
// caller gets, listens to the read-log group, and restores what it
// changed: rules deleted, daemon unregistered, auditing as it found it.
//
// With -capture it prints the raw datagrams of a status reply, a rule
// listing, an error and two events as "CAPTURE name hex" lines, which
// TestAuditVM saves to audit/testdata/ when NLKIT_AUDIT_CAPTURE=1.
//
// Usage:
//
//	vmcheck [-nlkit /bin/nlkit] [-capture] [-run regexp]
//
// It prints one "--- PASS name" or "--- FAIL name: reason" line per
// check and exits with status 1 if any failed.
package main
