//! What a person sees from `clef` run with no terminal (standard input empty, output piped, as in
//! a script or a service manager): each command's output alone on standard output, one plain
//! message on standard error when something is wrong, log lines only on standard error and
//! without colour codes, help for every flag, and a graceful stop on SIGTERM.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use clap::CommandFactory;

/// Runs `clef ARGS --data-dir DATA` as a script would: no terminal, the default log settings.
fn clef(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_clef"))
        .args(args)
        .arg("--data-dir")
        .arg(data)
        .env_remove("CLEF_LOG")
        .env_remove("RUST_LOG")
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// Asserts that `out` failed with status `code`, printed nothing on standard output, and exactly
/// `stderr` on standard error.
fn assert_refused(out: &Output, code: i32, stderr: &str) {
    assert_eq!(
        (
            out.status.code(),
            text(&out.stdout).as_str(),
            text(&out.stderr).as_str()
        ),
        (Some(code), "", stderr)
    );
}

#[test]
fn without_a_terminal_the_password_commands_say_to_pipe_it_in() {
    let dir = tempfile::tempdir().unwrap();
    let said = "error: no terminal to ask for the password: pipe it in with --password-stdin\n";
    assert_refused(&clef(dir.path(), &["user", "add", "anna"]), 1, said);
    assert_refused(&clef(dir.path(), &["user", "passwd", "anna"]), 1, said);
}

#[test]
fn a_refused_password_is_explained_once() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_clef"))
        .args(["user", "add", "bob", "--password-stdin", "--data-dir"])
        .arg(dir.path())
        .env_remove("CLEF_LOG")
        .env_remove("RUST_LOG")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), b"short\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_refused(&out, 1, "error: password: must be at least 8 characters\n");
}

#[test]
fn the_devices_of_an_unknown_user_print_only_the_error() {
    let dir = tempfile::tempdir().unwrap();
    // The first command on a fresh data folder creates the database: no log line about it.
    assert_refused(
        &clef(dir.path(), &["devices", "list", "nobody"]),
        1,
        "error: user not found\n",
    );
    let listed = clef(dir.path(), &["user", "list"]);
    assert!(listed.status.success());
    assert_eq!(
        (
            text(&listed.stdout).trim_end(),
            text(&listed.stderr).as_str()
        ),
        (
            "USER                     ADMIN  STATE     DEVICES STREAMS",
            ""
        )
    );
}

#[test]
fn an_export_without_a_source_says_what_to_choose() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("out");
    let out = clef(
        dir.path(),
        &[
            "export",
            "--format",
            "flac",
            "--out",
            out_dir.to_str().unwrap(),
        ],
    );
    let stderr = text(&out.stderr);
    assert_eq!(
        (
            out.status.code(),
            text(&out.stdout).as_str(),
            stderr.lines().next()
        ),
        (
            Some(2),
            "",
            Some("error: choose what to export: --playlist NAME or --album NAME")
        ),
        "{stderr}"
    );
    assert!(stderr.contains("Usage: clef export "), "{stderr}");
    assert!(!out_dir.exists(), "nothing was written");
    // Bare, as a person first tries it: what to export is asked for first, then where.
    let bare = clef(dir.path(), &["export"]);
    assert_eq!(bare.status.code(), Some(2));
    assert!(
        text(&bare.stderr)
            .starts_with("error: choose what to export: --playlist NAME or --album NAME\n"),
        "{}",
        text(&bare.stderr)
    );
    let no_out = clef(dir.path(), &["export", "--album", "First Light"]);
    assert_eq!(no_out.status.code(), Some(2));
    assert!(
        text(&no_out.stderr).starts_with("error: choose where to write the files: --out DIR\n"),
        "{}",
        text(&no_out.stderr)
    );
    let both = clef(dir.path(), &["export", "--playlist", "a", "--album", "b"]);
    assert_eq!(both.status.code(), Some(2));
    assert!(text(&both.stderr).starts_with(
        "error: the argument '--playlist <NAME>' cannot be used with '--album <NAME>'"
    ));
}

/// On a terminal the log is coloured, unless `NO_COLOR` is set (no-color.org); `script` gives
/// the command a terminal.
#[test]
fn the_log_is_coloured_only_on_a_terminal_without_no_color() {
    let dir = tempfile::tempdir().unwrap();
    let on_a_terminal = |no_color: Option<&str>| {
        let mut command = Command::new("script");
        command
            .args(["-q", "-e", "-c"])
            .arg(format!(
                "'{}' migrate --data-dir '{}'",
                env!("CARGO_BIN_EXE_clef"),
                dir.path().display()
            ))
            .arg("/dev/null")
            .env("CLEF_LOG", "debug")
            .env_remove("NO_COLOR")
            .stdin(Stdio::null());
        if let Some(value) = no_color {
            command.env("NO_COLOR", value);
        }
        let out = command.output().unwrap();
        assert!(out.status.success(), "{out:?}");
        let out = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(out.contains("DEBUG"), "{out}");
        out.contains('\x1b')
    };
    assert!(on_a_terminal(None), "coloured on a terminal");
    assert!(on_a_terminal(Some("")), "an empty NO_COLOR does not count");
    assert!(!on_a_terminal(Some("1")), "NO_COLOR respected");
    let piped = Command::new(env!("CARGO_BIN_EXE_clef"))
        .args(["migrate", "--data-dir"])
        .arg(dir.path())
        .env("CLEF_LOG", "debug")
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let (stdout, stderr) = (text(&piped.stdout), text(&piped.stderr));
    assert_eq!(
        stdout, "database is up to date\n",
        "the log stays on standard error"
    );
    assert!(
        stderr.contains(" DEBUG ") && !stderr.contains('\x1b'),
        "{stderr}"
    );
}

/// Every subcommand says what it does and every argument what it means, in `--help`.
#[test]
fn every_flag_and_subcommand_has_help() {
    fn walk(command: &clap::Command, path: &str, missing: &mut Vec<String>) {
        for arg in command.get_arguments() {
            if arg.get_help().is_none() && arg.get_long_help().is_none() {
                missing.push(format!("{path} {}", arg.get_id()));
            }
        }
        for sub in command.get_subcommands() {
            let path = format!("{path} {}", sub.get_name());
            if sub.get_about().is_none() && sub.get_long_about().is_none() {
                missing.push(path.clone());
            }
            walk(sub, &path, missing);
        }
    }
    let mut command = clef_server::cli::Cli::command();
    command.build();
    let mut missing = Vec::new();
    walk(&command, "clef", &mut missing);
    assert_eq!(missing, Vec::<String>::new(), "no help text");
    assert!(command.get_subcommands().count() >= 6);

    // And the binary prints it, without a terminal.
    let dir = tempfile::tempdir().unwrap();
    let help = clef(dir.path(), &["user", "add", "--help"]);
    assert!(help.status.success());
    let help = text(&help.stdout);
    assert!(
        help.contains("<NAME>  The new user's name")
            && help.contains("Read the password from the first line of standard input"),
        "{help}"
    );
}

/// `clef serve` with a music folder that is not there: it says so on standard error and in its
/// log, serves anyway, keeps its log (plain text, no colour codes) off standard output, and a
/// SIGTERM stops it gracefully with status 0.
#[test]
fn serve_warns_of_a_missing_folder_logs_plainly_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no such music");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_clef"))
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--music"])
        .arg(&missing)
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .env_remove("CLEF_LOG")
        .env_remove("RUST_LOG")
        .env_remove("NO_COLOR")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (lines_tx, lines) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    let out_reader = std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let _ = lines_tx.send(line.unwrap());
        }
    });
    let mut stderr = child.stderr.take().unwrap();
    let err_reader = std::thread::spawn(move || {
        let mut all = String::new();
        stderr.read_to_string(&mut all).unwrap();
        all
    });
    let first = lines
        .recv_timeout(Duration::from_secs(60))
        .expect("serve prints where it listens");
    assert!(
        first.starts_with(&format!("Clef is listening on http://127.0.0.1:{port} ")),
        "{first}"
    );
    // It serves.
    let mut health = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    std::io::Write::write_all(&mut health, b"GET /healthz HTTP/1.0\r\n\r\n").unwrap();
    let mut answer = String::new();
    health.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.0 200 OK\r\n"), "{answer}");

    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            Instant::now() < deadline,
            "still running 10 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    out_reader.join().unwrap();
    let stdout: Vec<String> = std::iter::once(first).chain(lines.try_iter()).collect();
    let stderr = err_reader.join().unwrap();
    assert_eq!(status.code(), Some(0), "{stderr}");

    let warning = format!(
        "warning: the music folder {} does not exist; Clef serves without it (scan again once it is there)",
        missing.display()
    );
    assert!(stderr.lines().any(|l| l == warning), "{stderr}");
    assert!(
        stderr
            .lines()
            .any(|l| l.contains(" WARN ") && l.contains("the music folder does not exist")),
        "{stderr}"
    );
    // The stop is logged (the first scan, running in the background, may log after it).
    assert!(
        stderr
            .lines()
            .any(|l| l.contains(" INFO ") && l.contains("shutting down")),
        "{stderr}"
    );
    assert!(
        !stderr.contains('\x1b'),
        "colour codes in a piped log: {stderr:?}"
    );
    // Standard output: where to go, and nothing from the log.
    assert!(
        stdout
            .iter()
            .all(|l| !l.contains(" INFO ") && !l.contains(" WARN ") && !l.contains('\x1b')),
        "{stdout:?}"
    );
    assert!(
        stdout.iter().any(|l| l
            .trim()
            .starts_with(&format!("http://127.0.0.1:{port}/setup?token="))),
        "{stdout:?}"
    );
}

#[test]
fn a_console_password_change_counts_in_words() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (ok, _, err) = crate::cli::clef(
        d,
        &["user", "add", "anna", "--password-stdin"],
        Some("a long enough password\n"),
    );
    assert!(ok, "{err}");
    let (ok, out, err) = crate::cli::clef(
        d,
        &["user", "passwd", "anna", "--password-stdin"],
        Some("another long password\n"),
    );
    assert!(ok, "{err}");
    assert_eq!(out, "password set; 0 devices signed out\n");
}
