// Certificate expiry, reported by the layers that load certificates and
// read by whoever exports it (the authchain command's metrics:
// authchain_certificate_expiry_timestamp_seconds{certificate="NAME"}).
//
// A layer calls report_certificate_expiry() each time it loads a certificate
// (at start and on every reload); the last report for a name wins. Names
// are what the configuration calls the certificate (its file path), never a
// peer's: the set stays as small as the configuration.
#pragma once

#include <chrono>
#include <map>
#include <string>

namespace authchain {

// Records that the certificate `name` expires at `not_after` (thread-safe).
void report_certificate_expiry(const std::string& name, std::chrono::system_clock::time_point not_after);

// Every certificate reported so far, by name (thread-safe snapshot).
std::map<std::string, std::chrono::system_clock::time_point> certificate_expiries();

}  // namespace authchain
