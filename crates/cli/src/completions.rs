//! `earshot completions SHELL` and the hidden `earshot man`: shell
//! completions and manual pages generated from the same clap definitions the
//! parser uses, so they cannot drift from the flags. The packages install
//! both (`scripts/package.sh` writes them at package time); nothing here is
//! read at run time.

use std::io::Write;
use std::path::PathBuf;

use clap::CommandFactory;
use clap_complete::Shell;

use crate::{Cli, CliError};

/// `earshot completions`.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell to complete for (bash, zsh, fish, elvish, powershell).
    #[arg(value_enum)]
    shell: Shell,
}

/// `earshot man`.
#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// Write `earshot.1` and one `earshot-SUBCOMMAND.1` per subcommand into DIR
    /// instead of printing `earshot.1`.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
}

/// Prints the completion script for `args.shell` on stdout.
pub fn completions(args: CompletionsArgs) -> Result<(), CliError> {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "earshot", &mut script);
    write_stdout(&script)
}

/// Prints the man page, or writes every page into `--dir`.
pub fn man(args: ManArgs) -> Result<(), CliError> {
    let command = Cli::command();
    match args.dir {
        Some(dir) => {
            let failed =
                |e: std::io::Error| CliError::Message(format!("cannot write man pages to {}: {e}", dir.display()));
            std::fs::create_dir_all(&dir).map_err(failed)?;
            clap_mangen::generate_to(command, &dir).map_err(failed)
        }
        None => {
            let mut page = Vec::new();
            clap_mangen::Man::new(command)
                .render(&mut page)
                .map_err(|e| CliError::Message(format!("cannot render the man page: {e}")))?;
            write_stdout(&page)
        }
    }
}

fn write_stdout(bytes: &[u8]) -> Result<(), CliError> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)
        .and_then(|()| out.flush())
        .map_err(|e| CliError::Message(format!("cannot write to stdout: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(shell: Shell) -> String {
        let mut out = Vec::new();
        clap_complete::generate(shell, &mut Cli::command(), "earshot", &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn completions_know_every_subcommand_and_its_flags() {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let script = script(shell);
            for word in ["serve", "recordings", "export", "selftest", "completions", "--data-dir", "--max-body"] {
                assert!(script.contains(word), "{shell} completion lacks {word}");
            }
        }
        assert!(!script(Shell::Bash).contains("earshot__man"), "the hidden `man` subcommand is not offered");
    }

    #[test]
    fn the_man_page_names_the_subcommands_and_the_version() {
        let mut page = Vec::new();
        clap_mangen::Man::new(Cli::command()).render(&mut page).unwrap();
        let page = String::from_utf8(page).unwrap();
        assert!(page.contains(".TH earshot 1") && page.contains(env!("CARGO_PKG_VERSION")), "{page:.400}");
        for sub in ["serve", "send", "export", "completions"] {
            assert!(page.contains(&format!("earshot\\-{sub}(1)")), "SUBCOMMANDS lists {sub}");
        }
    }
}
