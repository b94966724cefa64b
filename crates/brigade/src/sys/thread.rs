//! Thread-level system calls: the kernel's thread id, the process id, and
//! the thread's name as `ps`, `top` and debuggers show it.
//!
//! Linux keeps a thread's name in a 16-byte `comm` field, NUL included, so
//! at most 15 bytes of a name survive. The standard library cuts names at
//! byte 15 even inside a UTF-8 character; [`set_name`] cuts at the last
//! character boundary at or before it, so the kernel's copy stays valid text.

use std::ffi::CString;

/// Bytes of a thread name the kernel keeps (`TASK_COMM_LEN` minus the NUL).
pub(crate) const NAME_MAX: usize = 15;

/// The kernel's id of the calling thread.
pub(crate) fn gettid() -> u64 {
    super::gettid()
}

/// The id of the process; the main thread's [`gettid`] equals it.
pub(crate) fn getpid() -> u64 {
    // SAFETY: getpid takes no arguments and cannot fail.
    unsafe { libc::getpid() as u64 }
}

/// Whether the calling thread is the process's main thread.
pub(crate) fn is_main_thread() -> bool {
    gettid() == getpid()
}

/// The longest prefix of `name` that fits in the kernel's name field and
/// ends on a character boundary, with interior NULs cut off too.
pub(crate) fn kernel_name(name: &str) -> &str {
    let name = name.split('\0').next().unwrap_or("");
    if name.len() <= NAME_MAX {
        return name;
    }
    let mut end = NAME_MAX;
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    &name[..end]
}

/// Sets the calling thread's kernel name from `name`, truncated by
/// [`kernel_name`]. Fails only if the kernel refuses, which it does not for
/// a thread naming itself.
pub(crate) fn set_name(name: &str) -> std::io::Result<()> {
    let c_name = CString::new(kernel_name(name)).map_err(std::io::Error::other)?;
    // SAFETY: PR_SET_NAME reads a NUL-terminated string of at most 16 bytes
    // from the pointer; `c_name` is such a string (at most 15 bytes plus the
    // NUL) and outlives the call. The trailing arguments are unused by
    // PR_SET_NAME and passed as zero, as prctl(2) asks.
    let rc = unsafe { libc::prctl(libc::PR_SET_NAME, c_name.as_ptr(), 0, 0, 0) };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// The process's name: its main thread's kernel name, which every thread
/// it starts inherits until renamed.
pub(crate) fn process_name() -> std::io::Result<String> {
    let comm = std::fs::read_to_string("/proc/self/comm")?;
    Ok(comm.trim_end_matches('\n').to_string())
}

/// The calling thread's kernel name.
pub(crate) fn get_name() -> std::io::Result<String> {
    let mut buf = [0u8; NAME_MAX + 1];
    // SAFETY: PR_GET_NAME writes at most 16 bytes, NUL included, into the
    // buffer, which is 16 bytes long and lives across the call.
    let rc = unsafe { libc::prctl(libc::PR_GET_NAME, buf.as_mut_ptr(), 0, 0, 0) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let len = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    Ok(String::from_utf8_lossy(&buf[..len]).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_name_keeps_short_names_whole() {
        assert_eq!(kernel_name("Thread-1 (f)"), "Thread-1 (f)");
    }

    #[test]
    fn kernel_name_cuts_at_fifteen_bytes() {
        assert_eq!(kernel_name("Thread-26 (func2)"), "Thread-26 (func");
    }

    #[test]
    fn kernel_name_never_splits_a_character() {
        // Byte 15 falls inside the second 'é' (bytes 14 and 15).
        let name = "Thread-1 (ééééé)";
        assert_eq!(kernel_name(name), "Thread-1 (éé");
        assert!(kernel_name(name).len() <= NAME_MAX);
    }

    #[test]
    fn kernel_name_stops_at_nul() {
        assert_eq!(kernel_name("ab\0cd"), "ab");
    }

    #[test]
    fn set_name_is_read_back_truncated() {
        std::thread::spawn(|| {
            set_name("worker-ééééééééé").unwrap();
            assert_eq!(get_name().unwrap(), "worker-éééé");
        })
        .join()
        .unwrap();
    }

    #[test]
    fn a_new_thread_inherits_the_process_name() {
        let process = process_name().unwrap();
        assert!(!process.is_empty());
        let seen = std::thread::spawn(|| {
            // The harness's thread may have a name of its own: start from
            // one that has the process's.
            set_name(&process_name().unwrap()).unwrap();
            std::thread::spawn(get_name).join().unwrap().unwrap()
        })
        .join()
        .unwrap();
        assert_eq!(seen, process);
    }

    #[test]
    fn main_thread_is_the_process() {
        let tid = std::thread::spawn(gettid).join().unwrap();
        assert_ne!(tid, getpid());
    }
}
