import https from "node:https";
import type { AddressInfo } from "node:net";

// A self-signed certificate for "secure.example" (EC P-256, valid until 2126), made once with:
// openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 36500 \
//   -subj "/CN=secure.example" -addext "subjectAltName=DNS:secure.example"
// Test-only: it lets a loopback HTTPS server show which SNI name a client sent.
const KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgvD/GwHKeDj+B61Me
8VOG/HSQ2I1dfP1EVjFC6hmKXJyhRANCAAR+2BrLZzjf+nokXND9F0Pg21BFAHFf
3BJ/vuDpP2gTCeKSnV6EnnDdmOLkRHAjJxAq6XLeW62F/xQ+iAH7YyUA
-----END PRIVATE KEY-----`;
const CERT = `-----BEGIN CERTIFICATE-----
MIIBpDCCAUqgAwIBAgIUGp4G02CxZl0yWJSwOulMsWYCU2YwCgYIKoZIzj0EAwIw
GTEXMBUGA1UEAwwOc2VjdXJlLmV4YW1wbGUwIBcNMjYxMTIzMTgxNTA1WhgPMjEy
NjEwMzAxODE1MDVaMBkxFzAVBgNVBAMMDnNlY3VyZS5leGFtcGxlMFkwEwYHKoZI
zj0CAQYIKoZIzj0DAQcDQgAEftgay2c43/p6JFzQ/RdD4NtQRQBxX9wSf77g6T9o
Ewnikp1ehJ5w3Zji5ERwIycQKuly3luthf8UPogB+2MlAKNuMGwwHQYDVR0OBBYE
FIzJaYUBCIFt0WJpPnPMe4t5I5VOMB8GA1UdIwQYMBaAFIzJaYUBCIFt0WJpPnPM
e4t5I5VOMA8GA1UdEwEB/wQFMAMBAf8wGQYDVR0RBBIwEIIOc2VjdXJlLmV4YW1w
bGUwCgYIKoZIzj0EAwIDSAAwRQIhANVCEtj0SVrivApxaiKxFMYVoJycro7dP6kW
tKFPa3vUAiAN4FLlfpXxGO6DZX1JHEzoHhQOwyF0tywFtHid1Hb9nQ==
-----END CERTIFICATE-----`;

/** An HTTPS server on 127.0.0.1 with the self-signed "secure.example" certificate; records SNI names. */
export interface LocalTlsServer {
  port: number;
  /** The SNI server names clients sent, in order. */
  serverNames: string[];
  close(): Promise<void>;
}

/** Starts the TLS fixture on a free port; every request is answered with a small HTML page. */
export async function startLocalTlsServer(): Promise<LocalTlsServer> {
  const serverNames: string[] = [];
  const server = https.createServer(
    {
      key: KEY,
      cert: CERT,
      SNICallback: (name, callback) => {
        serverNames.push(name);
        callback(null);
      },
    },
    (_req, res) => res.writeHead(200, { "content-type": "text/html" }).end("<title>secure</title>"),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    serverNames,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
