// `authchain ca ssh-sign`: signs an OpenSSH user or host certificate with a
// CA key (an authchain CA key, PKCS#8/PEM, or an OpenSSH key), as
// `ssh-keygen -s CA -I ID -n PRINCIPALS [-h] [-V] [-z] [-O]` does; 24 h
// by default. Writes PUBKEY-cert.pub next to PUBKEY (id.pub -> id-cert.pub).
#pragma once

namespace CLI {
class App;
}

namespace authchain::tools {

// Adds the ssh-sign subcommand to the `ca` group. It runs in its callback;
// on error it prints "authchain: ..." and ends the parse with exit code 2.
void add_ca_ssh_sign(CLI::App& ca);

}  // namespace authchain::tools
