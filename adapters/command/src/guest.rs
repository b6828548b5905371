//! The export itself: `wasi:cli/run` over [`crate::run`]. wasm32 only.

use crate::exports::wasi::cli::run::Guest;
use crate::wasi::cli::{environment, exit, stderr, stdout};
use crate::wasi::io::streams::OutputStream;
use mde_router::Composed;
use std::io;

struct Component;
crate::export!(Component with_types_in crate);

impl Guest for Component {
    fn run() -> Result<(), ()> {
        let args = environment::get_arguments();
        // The first argument is the program's name.
        let args = args.get(1..).unwrap_or_default();
        let mut out = Stream(stdout::get_stdout());
        let mut err = Stream(stderr::get_stderr());
        match crate::run(args, &Composed, &mut out, &mut err) {
            0 => Ok(()),
            // Every other status through `exit-with-code` (stable since WASI
            // 0.2.12; wasmtime 49 provides it whatever `-S` says), 1 too:
            // `run`'s own error makes hosts print more than the error line
            // (`jco run`: `ComponentError: undefined` and a stack trace).
            status => {
                drop((out, err));
                exit::exit_with_code(status);
                Err(())
            }
        }
    }
}

/// A `wasi:io` output stream as `std::io::Write`.
struct Stream(OutputStream);

impl io::Write for Stream {
    /// As much as the host takes at once, as the proxy writes its bodies
    /// (`blocking-write-and-flush` takes 4096 bytes a call: 256 calls for a
    /// 500-machine answer); `flush` sends it on.
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let failed = |e| io::Error::other(format!("{e:?}"));
        loop {
            match self.0.check_write().map_err(failed)? {
                0 => self.0.subscribe().block(),
                permitted => {
                    let n = bytes
                        .len()
                        .min(usize::try_from(permitted).unwrap_or(usize::MAX));
                    self.0.write(&bytes[..n]).map_err(failed)?;
                    return Ok(n);
                }
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0
            .blocking_flush()
            .map_err(|e| io::Error::other(format!("{e:?}")))
    }
}
