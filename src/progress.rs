//! Progress bars on stderr. They draw only when stderr is a terminal, so
//! pipes, CI logs and tests stay clean; results always go to stdout.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

fn target() -> ProgressDrawTarget {
    if std::env::var_os("MOTIF_NO_PROGRESS").is_some() {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    }
}

/// A bar counting items (passages, pairs), with a rate.
pub fn items_bar(total: u64, what: &str) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total), target());
    bar.set_style(
        ProgressStyle::with_template("{msg:>10} [{bar:30}] {pos}/{len} {per_sec} eta {eta}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

/// A bar counting bytes of a download.
pub fn bytes_bar(total: Option<u64>, what: String) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(total, target());
    bar.set_style(
        ProgressStyle::with_template("{msg:>10} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message(what);
    bar
}
