// ProcessPriority: this process's nice value, for a data path that should not be preempted in
// mid-batch by the clients its frames wake (ovs-vswitchd runs at -10 for the same reason).
import CLinux

public enum ProcessPriority {
    /// The nice value now.
    public static var current: Int { Int(CLinux_get_nice()) }

    /// Sets the nice value; raising priority (a lower value) needs root or CAP_SYS_NICE (EACCES).
    public static func set(_ nice: Int) throws {
        try syscall("setpriority") { CLinux_set_nice(Int32(nice)) }
    }
}
