//! `stopbook ctl`: one request to the run holding a journal, through the socket beside it
//! (see [`super::control`]), and its answer printed. No run holding the journal: exit 2.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::time::Duration;

use super::Exit;
use super::args::CtlArgs;
use super::control::{Answer, Request, socket_path};
use crate::exec::journal;

/// Who a `ctl` command is: user, host and process, as the journal records it.
pub fn who() -> String {
    let me = journal::Holder::this_process();
    format!("{} on {} (pid {})", me.user, me.host, me.pid)
}

/// Runs `stopbook ctl` and returns its exit code.
pub fn run(args: &CtlArgs) -> Exit {
    let shown = args.journal.display();
    let request = Request {
        action: args.action.as_str().to_owned(),
        by: who(),
    };
    let answer = match ask(&socket_path(&args.journal), &request) {
        Ok(answer) => answer,
        Err(e) => {
            match journal::holder(&args.journal) {
                Some(holder) => say!(
                    "error: the run holding {shown} ({holder}) does not answer on its control socket: {e}"
                ),
                None => say!("error: no run holds {shown}: there is nothing to steer"),
            }
            return Exit::Invalid;
        }
    };
    if args.action == super::args::CtlAction::Status {
        out!("{}", answer.message);
    } else {
        say!("{}", answer.message);
    }
    if answer.ok {
        Exit::Success
    } else {
        Exit::Failed
    }
}

/// One request and its answer, within ten seconds.
fn ask(socket: &std::path::Path, request: &Request) -> std::io::Result<Answer> {
    let mut stream = UnixStream::connect(socket)?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    stream.set_write_timeout(Some(Duration::from_secs(10)))?;
    let mut line = serde_json::to_vec(request)?;
    line.push(b'\n');
    stream.write_all(&line)?;
    let mut answer = String::new();
    BufReader::new(std::io::Read::take(stream, 64 * 1024)).read_line(&mut answer)?;
    serde_json::from_str(&answer).map_err(std::io::Error::other)
}
