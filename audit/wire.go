package audit

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

//go:generate go run ./internal/gensyscalls -o zsyscalls.go /usr/include/x86_64-linux-gnu/asm/unistd_64.h /usr/include/x86_64-linux-gnu/asm/unistd_32.h

// MessageType is the type of an audit netlink message (nlmsghdr.nlmsg_type):
// a command (1000-1099), a user-space message (1100-1199, 2100-2999), a
// daemon message (1200-1299) or a kernel record (1300-2099). String gives
// the name auditd writes after "type=" ("SYSCALL").
type MessageType uint16

// Commands (include/uapi/linux/audit.h).
const (
	MsgGet        MessageType = 1000 // AUDIT_GET: get status
	MsgSet        MessageType = 1001 // AUDIT_SET: set status (enable, auditd pid, limits)
	MsgList       MessageType = 1002 // AUDIT_LIST: deprecated
	MsgAdd        MessageType = 1003 // AUDIT_ADD: deprecated
	MsgDel        MessageType = 1004 // AUDIT_DEL: deprecated
	MsgUser       MessageType = 1005 // AUDIT_USER: message from user space, deprecated
	MsgLogin      MessageType = 1006 // AUDIT_LOGIN: login id set
	MsgSignalInfo MessageType = 1010 // AUDIT_SIGNAL_INFO: sender of a signal to auditd
	MsgAddRule    MessageType = 1011 // AUDIT_ADD_RULE: add a rule (struct audit_rule_data)
	MsgDelRule    MessageType = 1012 // AUDIT_DEL_RULE: delete a rule
	MsgListRules  MessageType = 1013 // AUDIT_LIST_RULES: list the rules
	MsgTrim       MessageType = 1014 // AUDIT_TRIM: trim junk from watched trees
	MsgMakeEquiv  MessageType = 1015 // AUDIT_MAKE_EQUIV: append to watched tree
	MsgTTYGet     MessageType = 1016 // AUDIT_TTY_GET: get TTY auditing status
	MsgTTYSet     MessageType = 1017 // AUDIT_TTY_SET: set TTY auditing status
	MsgSetFeature MessageType = 1018 // AUDIT_SET_FEATURE: turn a feature on or off
	MsgGetFeature MessageType = 1019 // AUDIT_GET_FEATURE: get features
)

// Kernel records (event messages).
const (
	MsgSyscall       MessageType = 1300 // AUDIT_SYSCALL: syscall event
	MsgPath          MessageType = 1302 // AUDIT_PATH: file name path information
	MsgIPC           MessageType = 1303 // AUDIT_IPC: IPC record
	MsgSocketCall    MessageType = 1304 // AUDIT_SOCKETCALL: sys_socketcall arguments
	MsgConfigChange  MessageType = 1305 // AUDIT_CONFIG_CHANGE: audit system configuration change
	MsgSockAddr      MessageType = 1306 // AUDIT_SOCKADDR: sockaddr copied as syscall argument
	MsgCWD           MessageType = 1307 // AUDIT_CWD: current working directory
	MsgExecve        MessageType = 1309 // AUDIT_EXECVE: execve arguments
	MsgIPCSetPerm    MessageType = 1311 // AUDIT_IPC_SET_PERM: IPC new permissions
	MsgMQOpen        MessageType = 1312 // AUDIT_MQ_OPEN: POSIX MQ open
	MsgMQSendRecv    MessageType = 1313 // AUDIT_MQ_SENDRECV: POSIX MQ send/receive
	MsgMQNotify      MessageType = 1314 // AUDIT_MQ_NOTIFY: POSIX MQ notify
	MsgMQGetSetAttr  MessageType = 1315 // AUDIT_MQ_GETSETATTR: POSIX MQ get/set attribute
	MsgKernelOther   MessageType = 1316 // AUDIT_KERNEL_OTHER: third-party modules
	MsgFDPair        MessageType = 1317 // AUDIT_FD_PAIR: pipe/socketpair
	MsgObjPID        MessageType = 1318 // AUDIT_OBJ_PID: ptrace target
	MsgTTY           MessageType = 1319 // AUDIT_TTY: input on an administrative TTY
	MsgEOE           MessageType = 1320 // AUDIT_EOE: end of a multi-record event
	MsgBPRMFcaps     MessageType = 1321 // AUDIT_BPRM_FCAPS: file capabilities raised permissions
	MsgCapset        MessageType = 1322 // AUDIT_CAPSET: capset arguments
	MsgMMap          MessageType = 1323 // AUDIT_MMAP: mmap descriptor and flags
	MsgNetfilterPkt  MessageType = 1324 // AUDIT_NETFILTER_PKT: packets traversing netfilter chains
	MsgNetfilterCfg  MessageType = 1325 // AUDIT_NETFILTER_CFG: netfilter chain modifications
	MsgSeccomp       MessageType = 1326 // AUDIT_SECCOMP: secure computing event
	MsgProctitle     MessageType = 1327 // AUDIT_PROCTITLE: the process's command line
	MsgFeatureChange MessageType = 1328 // AUDIT_FEATURE_CHANGE: audit feature changes
	MsgReplace       MessageType = 1329 // AUDIT_REPLACE: probe of the registered daemon
	MsgKernModule    MessageType = 1330 // AUDIT_KERN_MODULE: kernel module events
	MsgFanotify      MessageType = 1331 // AUDIT_FANOTIFY: fanotify access decision
	MsgTimeInjOffset MessageType = 1332 // AUDIT_TIME_INJOFFSET: timekeeping offset injected
	MsgTimeAdjNTPVal MessageType = 1333 // AUDIT_TIME_ADJNTPVAL: NTP value adjustment
	MsgBPF           MessageType = 1334 // AUDIT_BPF: BPF subsystem
	MsgEventListener MessageType = 1335 // AUDIT_EVENT_LISTENER: task joined the multicast read group
	MsgURingOp       MessageType = 1336 // AUDIT_URINGOP: io_uring operation
	MsgOpenat2       MessageType = 1337 // AUDIT_OPENAT2: openat2 how arguments
	MsgDMCtrl        MessageType = 1338 // AUDIT_DM_CTRL: device mapper target control
	MsgDMEvent       MessageType = 1339 // AUDIT_DM_EVENT: device mapper events
	MsgAVC           MessageType = 1400 // AUDIT_AVC: SELinux AVC denial or grant
	MsgSELinuxErr    MessageType = 1401 // AUDIT_SELINUX_ERR: internal SELinux errors
	MsgAVCPath       MessageType = 1402 // AUDIT_AVC_PATH: dentry, vfsmount pair from avc
	MsgMACPolicyLoad MessageType = 1403 // AUDIT_MAC_POLICY_LOAD: policy file load
	MsgMACStatus     MessageType = 1404 // AUDIT_MAC_STATUS: enforcing, permissive, off
	MsgMACConfig     MessageType = 1405 // AUDIT_MAC_CONFIG_CHANGE: changes to booleans
	MsgAnomPromisc   MessageType = 1700 // AUDIT_ANOM_PROMISCUOUS: device changed promiscuous mode
	MsgAnomAbend     MessageType = 1701 // AUDIT_ANOM_ABEND: process ended abnormally
	MsgAnomLink      MessageType = 1702 // AUDIT_ANOM_LINK: suspicious use of file links
	MsgAnomCreat     MessageType = 1703 // AUDIT_ANOM_CREAT: suspicious file creation
	MsgIntegrityData MessageType = 1800 // AUDIT_INTEGRITY_DATA: data integrity verification
	MsgKernel        MessageType = 2000 // AUDIT_KERNEL: asynchronous kernel record (audit initialized)
)

// Ranges of message types (audit.h's blocks).
const (
	firstUserMsg   = 1100 // AUDIT_FIRST_USER_MSG
	lastUserMsg    = 1199 // AUDIT_LAST_USER_MSG
	firstDaemonMsg = 1200 // AUDIT_DAEMON_START
	lastDaemonMsg  = 1299
	firstEventMsg  = 1300 // AUDIT_FIRST_EVENT
	firstUserMsg2  = 2100 // AUDIT_FIRST_USER_MSG2
	lastUserMsg2   = 2999 // AUDIT_LAST_USER_MSG2
)

var messageTypeNames = map[MessageType]string{
	MsgGet: "GET", MsgSet: "SET", MsgList: "LIST", MsgAdd: "ADD", MsgDel: "DEL", MsgUser: "USER",
	MsgLogin: "LOGIN", 1007: "WATCH_INS", 1008: "WATCH_REM", 1009: "WATCH_LIST",
	MsgSignalInfo: "SIGNAL_INFO", MsgAddRule: "ADD_RULE", MsgDelRule: "DEL_RULE", MsgListRules: "LIST_RULES",
	MsgTrim: "TRIM", MsgMakeEquiv: "MAKE_EQUIV", MsgTTYGet: "TTY_GET", MsgTTYSet: "TTY_SET",
	MsgSetFeature: "SET_FEATURE", MsgGetFeature: "GET_FEATURE",

	// User-space messages, as auditd names them (lib/msg_typetab.h).
	1100: "USER_AUTH", 1101: "USER_ACCT", 1102: "USER_MGMT", 1103: "CRED_ACQ", 1104: "CRED_DISP",
	1105: "USER_START", 1106: "USER_END", 1107: "USER_AVC", 1108: "USER_CHAUTHTOK", 1109: "USER_ERR",
	1110: "CRED_REFR", 1111: "USYS_CONFIG", 1112: "USER_LOGIN", 1113: "USER_LOGOUT", 1114: "ADD_USER",
	1115: "DEL_USER", 1116: "ADD_GROUP", 1117: "DEL_GROUP", 1118: "DAC_CHECK", 1119: "CHGRP_ID",
	1120: "TEST", 1121: "TRUSTED_APP", 1122: "USER_SELINUX_ERR", 1123: "USER_CMD", 1124: "USER_TTY",
	1125: "CHUSER_ID", 1126: "GRP_AUTH", 1127: "SYSTEM_BOOT", 1128: "SYSTEM_SHUTDOWN",
	1129: "SYSTEM_RUNLEVEL", 1130: "SERVICE_START", 1131: "SERVICE_STOP", 1132: "GRP_MGMT",
	1133: "GRP_CHAUTHTOK", 1134: "MAC_CHECK", 1135: "ACCT_LOCK", 1136: "ACCT_UNLOCK",
	1137: "USER_DEVICE", 1138: "SOFTWARE_UPDATE",
	1200: "DAEMON_START", 1201: "DAEMON_END", 1202: "DAEMON_ABORT", 1203: "DAEMON_CONFIG",
	1204: "DAEMON_RECONFIG", 1205: "DAEMON_ROTATE", 1206: "DAEMON_RESUME", 1207: "DAEMON_ACCEPT",
	1208: "DAEMON_CLOSE", 1209: "DAEMON_ERR",

	MsgSyscall: "SYSCALL", 1301: "FS_WATCH", MsgPath: "PATH", MsgIPC: "IPC", MsgSocketCall: "SOCKETCALL",
	MsgConfigChange: "CONFIG_CHANGE", MsgSockAddr: "SOCKADDR", MsgCWD: "CWD", MsgExecve: "EXECVE",
	MsgIPCSetPerm: "IPC_SET_PERM", MsgMQOpen: "MQ_OPEN", MsgMQSendRecv: "MQ_SENDRECV",
	MsgMQNotify: "MQ_NOTIFY", MsgMQGetSetAttr: "MQ_GETSETATTR", MsgKernelOther: "KERNEL_OTHER",
	MsgFDPair: "FD_PAIR", MsgObjPID: "OBJ_PID", MsgTTY: "TTY", MsgEOE: "EOE", MsgBPRMFcaps: "BPRM_FCAPS",
	MsgCapset: "CAPSET", MsgMMap: "MMAP", MsgNetfilterPkt: "NETFILTER_PKT", MsgNetfilterCfg: "NETFILTER_CFG",
	MsgSeccomp: "SECCOMP", MsgProctitle: "PROCTITLE", MsgFeatureChange: "FEATURE_CHANGE",
	MsgReplace: "REPLACE", MsgKernModule: "KERN_MODULE", MsgFanotify: "FANOTIFY",
	MsgTimeInjOffset: "TIME_INJOFFSET", MsgTimeAdjNTPVal: "TIME_ADJNTPVAL", MsgBPF: "BPF",
	MsgEventListener: "EVENT_LISTENER", MsgURingOp: "URINGOP", MsgOpenat2: "OPENAT2",
	MsgDMCtrl: "DM_CTRL", MsgDMEvent: "DM_EVENT",
	MsgAVC: "AVC", MsgSELinuxErr: "SELINUX_ERR", MsgAVCPath: "AVC_PATH", MsgMACPolicyLoad: "MAC_POLICY_LOAD",
	MsgMACStatus: "MAC_STATUS", MsgMACConfig: "MAC_CONFIG_CHANGE", 1406: "MAC_UNLBL_ALLOW",
	1407: "MAC_CIPSOV4_ADD", 1408: "MAC_CIPSOV4_DEL", 1409: "MAC_MAP_ADD", 1410: "MAC_MAP_DEL",
	1415: "MAC_IPSEC_EVENT", 1416: "MAC_UNLBL_STCADD", 1417: "MAC_UNLBL_STCDEL",
	1418: "MAC_CALIPSO_ADD", 1419: "MAC_CALIPSO_DEL",
	MsgAnomPromisc: "ANOM_PROMISCUOUS", MsgAnomAbend: "ANOM_ABEND", MsgAnomLink: "ANOM_LINK",
	MsgAnomCreat:     "ANOM_CREAT",
	MsgIntegrityData: "INTEGRITY_DATA", 1801: "INTEGRITY_METADATA", 1802: "INTEGRITY_STATUS",
	1803: "INTEGRITY_HASH", 1804: "INTEGRITY_PCR", 1805: "INTEGRITY_RULE", 1806: "INTEGRITY_EVM_XATTR",
	1807:      "INTEGRITY_POLICY_RULE",
	MsgKernel: "KERNEL",
}

// String returns the name auditd gives the type ("SYSCALL"), or
// "UNKNOWN[N]" as auditd writes types it does not know.
func (t MessageType) String() string {
	if s, ok := messageTypeNames[t]; ok {
		return s
	}
	return fmt.Sprintf("UNKNOWN[%d]", uint16(t))
}

// ParseMessageType returns the type with the given name ("SYSCALL",
// "UNKNOWN[1234]" or a number).
func ParseMessageType(s string) (MessageType, error) {
	for t, n := range messageTypeNames {
		if strings.EqualFold(n, s) {
			return t, nil
		}
	}
	if in, ok := strings.CutPrefix(s, "UNKNOWN["); ok {
		s = strings.TrimSuffix(in, "]")
	}
	n, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		return 0, fmt.Errorf("unknown message type %q", s)
	}
	return MessageType(n), nil
}

// standalone reports whether records of type t are always an event of
// their own: messages user space sends (AUDIT_USER, 1100-1299,
// 2100-2999) and AUDIT_KERNEL, which the kernel logs outside any syscall
// context, so no AUDIT_EOE follows them.
func (t MessageType) standalone() bool {
	return t == MsgUser || t == MsgKernel ||
		(t >= firstUserMsg && t <= lastDaemonMsg) || (t >= firstUserMsg2 && t <= lastUserMsg2)
}

// isRecord reports whether messages of type t carry an audit record (the
// text "audit(TIME:SERIAL): ..."), as opposed to a command, a reply or
// netlink control. AUDIT_REPLACE is a binary probe, not a record.
func (t MessageType) isRecord() bool {
	if t == MsgReplace {
		return false
	}
	return t == MsgUser || t == MsgLogin || t >= firstUserMsg
}

// StatusMask says which fields of a Status are valid in an AUDIT_SET
// request (struct audit_status.mask).
type StatusMask uint32

// Status mask bits.
const (
	StatusEnabled               StatusMask = 0x0001 // AUDIT_STATUS_ENABLED
	StatusFailure               StatusMask = 0x0002 // AUDIT_STATUS_FAILURE
	StatusPID                   StatusMask = 0x0004 // AUDIT_STATUS_PID
	StatusRateLimit             StatusMask = 0x0008 // AUDIT_STATUS_RATE_LIMIT
	StatusBacklogLimit          StatusMask = 0x0010 // AUDIT_STATUS_BACKLOG_LIMIT
	StatusBacklogWaitTime       StatusMask = 0x0020 // AUDIT_STATUS_BACKLOG_WAIT_TIME
	StatusLost                  StatusMask = 0x0040 // AUDIT_STATUS_LOST
	StatusBacklogWaitTimeActual StatusMask = 0x0080 // AUDIT_STATUS_BACKLOG_WAIT_TIME_ACTUAL
)

var statusMaskNames = []struct {
	m    StatusMask
	name string
}{
	{StatusEnabled, "enabled"}, {StatusFailure, "failure"}, {StatusPID, "pid"},
	{StatusRateLimit, "rate_limit"}, {StatusBacklogLimit, "backlog_limit"},
	{StatusBacklogWaitTime, "backlog_wait_time"}, {StatusLost, "lost"},
	{StatusBacklogWaitTimeActual, "backlog_wait_time_actual"},
}

// String lists the bits by the names of their fields ("enabled|pid").
func (m StatusMask) String() string {
	if m == 0 {
		return "0"
	}
	var parts []string
	for _, n := range statusMaskNames {
		if m&n.m != 0 {
			parts = append(parts, n.name)
			m &^= n.m
		}
	}
	if m != 0 {
		parts = append(parts, fmt.Sprintf("%#x", uint32(m)))
	}
	return strings.Join(parts, "|")
}

// EnabledState is the audit system's state (audit_status.enabled; auditctl -e).
type EnabledState uint32

// Enabled states.
const (
	Disabled EnabledState = 0 // AUDIT_OFF: no syscall auditing, no rules applied
	Enabled  EnabledState = 1 // AUDIT_ON
	Locked   EnabledState = 2 // AUDIT_LOCKED: on, and the configuration is immutable until reboot
)

// String returns "disabled", "enabled" or "locked".
func (e EnabledState) String() string {
	switch e {
	case Disabled:
		return "disabled"
	case Enabled:
		return "enabled"
	case Locked:
		return "locked"
	}
	return fmt.Sprintf("enabled(%d)", uint32(e))
}

// FailureMode is what the kernel does when it cannot log a record
// (audit_status.failure; auditctl -f).
type FailureMode uint32

// Failure modes.
const (
	FailSilent FailureMode = 0 // AUDIT_FAIL_SILENT: drop the record
	FailPrintk FailureMode = 1 // AUDIT_FAIL_PRINTK: log to the kernel log (the default)
	FailPanic  FailureMode = 2 // AUDIT_FAIL_PANIC: panic the machine
)

// String returns "silent", "printk" or "panic".
func (f FailureMode) String() string {
	switch f {
	case FailSilent:
		return "silent"
	case FailPrintk:
		return "printk"
	case FailPanic:
		return "panic"
	}
	return fmt.Sprintf("failure(%d)", uint32(f))
}

// Features is the kernel's audit feature bitmap (audit_status.feature_bitmap).
type Features uint32

// Feature bits.
const (
	FeatureBacklogLimit     Features = 0x01 // AUDIT_FEATURE_BITMAP_BACKLOG_LIMIT
	FeatureBacklogWaitTime  Features = 0x02 // AUDIT_FEATURE_BITMAP_BACKLOG_WAIT_TIME
	FeatureExecutablePath   Features = 0x04 // AUDIT_FEATURE_BITMAP_EXECUTABLE_PATH: the exe field
	FeatureExcludeExtend    Features = 0x08 // AUDIT_FEATURE_BITMAP_EXCLUDE_EXTEND
	FeatureSessionIDFilter  Features = 0x10 // AUDIT_FEATURE_BITMAP_SESSIONID_FILTER
	FeatureLostReset        Features = 0x20 // AUDIT_FEATURE_BITMAP_LOST_RESET
	FeatureFilterFilesystem Features = 0x40 // AUDIT_FEATURE_BITMAP_FILTER_FS
)

var featureNames = []struct {
	f    Features
	name string
}{
	{FeatureBacklogLimit, "backlog_limit"}, {FeatureBacklogWaitTime, "backlog_wait_time"},
	{FeatureExecutablePath, "executable_path"}, {FeatureExcludeExtend, "exclude_extend"},
	{FeatureSessionIDFilter, "sessionid_filter"}, {FeatureLostReset, "lost_reset"},
	{FeatureFilterFilesystem, "filter_fs"},
}

// Names lists the features by name, unknown bits as hex numbers.
func (f Features) Names() []string {
	names := []string{}
	for _, n := range featureNames {
		if f&n.f != 0 {
			names = append(names, n.name)
			f &^= n.f
		}
	}
	if f != 0 {
		names = append(names, fmt.Sprintf("%#x", uint32(f)))
	}
	return names
}

// String joins Names with "|".
func (f Features) String() string {
	if f == 0 {
		return "0"
	}
	return strings.Join(f.Names(), "|")
}

// statusLen is the size of struct audit_status with every field this
// package knows; minStatusLen that of the oldest kernels (up to backlog).
const (
	statusLen    = 44
	minStatusLen = 32
)

// Status is the audit system's state (struct audit_status): the reply to
// AUDIT_GET, and the request of AUDIT_SET, where Mask says which fields
// to change. The JSON names are those `auditctl -s` prints.
type Status struct {
	// Mask: in a request, the fields to set; in a reply, unused (0).
	Mask StatusMask `json:"-"`
	// Enabled is the audit state.
	Enabled EnabledState `json:"enabled"`
	// Failure is what happens when a record cannot be logged.
	Failure FailureMode `json:"failure"`
	// PID is the process ID of the registered audit daemon, 0 if none.
	PID uint32 `json:"pid"`
	// RateLimit is the most records per second, 0 for no limit.
	RateLimit uint32 `json:"rate_limit"`
	// BacklogLimit is the most records waiting for the daemon.
	BacklogLimit uint32 `json:"backlog_limit"`
	// Lost counts records lost (rate limit, backlog, memory, no daemon).
	Lost uint32 `json:"lost"`
	// Backlog is the number of records waiting for the daemon.
	Backlog uint32 `json:"backlog"`
	// FeatureBitmap lists the kernel's audit features (the field was
	// "version" before Linux 4.0, with the same bits).
	FeatureBitmap Features `json:"feature_bitmap"`
	// BacklogWaitTime is how long a task waits for room in a full
	// backlog, in the kernel's clock ticks (jiffies), as auditctl shows it.
	BacklogWaitTime uint32 `json:"backlog_wait_time"`
	// BacklogWaitTimeActual is the time tasks spent waiting for room in
	// the backlog, as the kernel counts it (Linux 5.9 and later).
	BacklogWaitTimeActual uint32 `json:"backlog_wait_time_actual"`
}

// ErrShortStatus reports an audit_status payload shorter than the oldest
// kernels send.
var ErrShortStatus = errors.New("audit: status shorter than 32 bytes")

// MarshalBinary encodes s as struct audit_status (44 bytes, native byte
// order), for AUDIT_SET.
func (s Status) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, statusLen)
	for _, v := range []uint32{
		uint32(s.Mask), uint32(s.Enabled), uint32(s.Failure), s.PID, s.RateLimit, s.BacklogLimit,
		s.Lost, s.Backlog, uint32(s.FeatureBitmap), s.BacklogWaitTime, s.BacklogWaitTimeActual,
	} {
		b = binary.NativeEndian.AppendUint32(b, v)
	}
	return b, nil
}

// UnmarshalBinary decodes struct audit_status. Kernels before 3.15 send
// 32 or 36 bytes, before 5.9 40: the fields they lack are zero. Bytes
// past the fields this package knows (a later kernel's) are ignored.
func (s *Status) UnmarshalBinary(b []byte) error {
	if len(b) < minStatusLen {
		return fmt.Errorf("%w: %d bytes", ErrShortStatus, len(b))
	}
	var v [statusLen / 4]uint32
	for i := range v {
		if 4*i+4 <= len(b) {
			v[i] = binary.NativeEndian.Uint32(b[4*i:])
		}
	}
	*s = Status{
		Mask: StatusMask(v[0]), Enabled: EnabledState(v[1]), Failure: FailureMode(v[2]), PID: v[3],
		RateLimit: v[4], BacklogLimit: v[5], Lost: v[6], Backlog: v[7], FeatureBitmap: Features(v[8]),
		BacklogWaitTime: v[9], BacklogWaitTimeActual: v[10],
	}
	return nil
}
