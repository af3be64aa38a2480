//! TCP tuning rouille does not expose: turning Nagle's algorithm off for every connection.
//!
//! tiny_http (under rouille) writes a response's head and body with separate `write` calls once
//! the body passes its 1 KiB buffer. With Nagle on, the body segment then waits for the client to
//! acknowledge the head, and clients delay that ACK by up to 40 ms: every response over ~1 KB
//! took 40 ms on a keep-alive connection. On Linux an accepted socket inherits TCP_NODELAY from
//! its listening socket, so setting it once on the listener fixes every connection.

use std::net::SocketAddr;

/// Sets TCP_NODELAY on this process's listening socket bound to `addr`. Returns whether one was
/// found; elsewhere than Linux it does nothing.
pub fn disable_nagle_on_listener(addr: SocketAddr) -> bool {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::{BorrowedFd, RawFd};
        let Ok(entries) = std::fs::read_dir("/proc/self/fd") else {
            return false;
        };
        for entry in entries.flatten() {
            let Some(fd) = entry
                .file_name()
                .to_str()
                .and_then(|n| n.parse::<RawFd>().ok())
            else {
                continue;
            };
            let is_socket = std::fs::read_link(entry.path())
                .map(|target| target.to_string_lossy().starts_with("socket:"))
                .unwrap_or(false);
            if !is_socket {
                continue;
            }
            // SAFETY: the descriptor is open (listed in /proc/self/fd, checked to be a socket)
            // and only borrowed for the two calls below, during start-up before any request
            // thread could close it.
            let borrowed = unsafe { BorrowedFd::borrow_raw(fd) };
            let socket = socket2::SockRef::from(&borrowed);
            let bound = socket.local_addr().ok().and_then(|a| a.as_socket());
            if bound == Some(addr) && socket.set_tcp_nodelay(true).is_ok() {
                return true;
            }
        }
        false
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = addr;
        false
    }
}
