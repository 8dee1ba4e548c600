//! A TCP stream the fault pipeline can cut mid-exchange, the two ways networks and gateways end a
//! call: a reset (RST), or a plain close (FIN) with nothing more written. Under TLS the close
//! comes without a `close_notify`, as when a gateway drops a connection abruptly: the stream
//! sits below the TLS layer, so the alert the TLS layer would write on its way out is lost.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

/// How a connection is cut.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cut {
    /// A reset (RST): zero linger.
    Reset,
    /// A close (FIN) with nothing more written, under TLS without a `close_notify`.
    Close,
}

const OPEN: u8 = 0;
const RESET: u8 = 1;
const CLOSE: u8 = 2;

/// Marks the connection of a [`Cuttable`] as cut; shared with the stream.
#[derive(Debug, Clone, Default)]
pub struct Cutter(Arc<AtomicU8>);

impl Cutter {
    /// Cuts the connection: from now on its IO fails, and it ends as `how` says.
    pub fn cut(&self, how: Cut) {
        let state = match how {
            Cut::Reset => RESET,
            Cut::Close => CLOSE,
        };
        self.0.store(state, Ordering::SeqCst);
    }

    fn state(&self) -> u8 {
        self.0.load(Ordering::SeqCst)
    }
}

/// A TCP stream that, once cut, fails all IO (nothing more reaches the client) and ends with a
/// reset or a bare close.
pub struct Cuttable {
    stream: TcpStream,
    cutter: Cutter,
}

impl Cuttable {
    /// `stream`, cut through `cutter`.
    pub fn new(stream: TcpStream, cutter: Cutter) -> Self {
        Cuttable { stream, cutter }
    }

    fn broken(&self) -> Option<io::Error> {
        match self.cutter.state() {
            OPEN => None,
            RESET => Some(io::Error::from(io::ErrorKind::ConnectionReset)),
            _ => Some(io::Error::from(io::ErrorKind::BrokenPipe)),
        }
    }
}

impl Drop for Cuttable {
    fn drop(&mut self) {
        if self.cutter.state() == RESET {
            let _ = self.stream.set_zero_linger();
        }
    }
}

impl AsyncRead for Cuttable {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if let Some(e) = self.broken() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Cuttable {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if let Some(e) = self.broken() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if let Some(e) = self.broken() {
            return Poll::Ready(Err(e));
        }
        Pin::new(&mut self.stream).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // A cut connection ends when the stream is dropped (a reset, or the close of the
        // socket): nothing is flushed or shut down on the way.
        if self.cutter.state() != OPEN {
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}
