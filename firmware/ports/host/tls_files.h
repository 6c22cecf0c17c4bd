// The PEM files the host bear's TLS uses (--ca, --cert, --key), shared by its
// MQTT client (mqtts://) and its HTTP client (https:// clips).
#pragma once

#include <string>

namespace teddy::host {

struct TlsFiles {
  std::string ca;    // PEM CA bundle that signs the gateways' certificates
  std::string cert;  // client certificate for mutual TLS (optional)
  std::string key;
};

}  // namespace teddy::host
