"""An unmodified Pyro4 client through `authchain tunnel`.

    pyro_client.py URI     calls echo, whoami and a proxy the daemon returned
    pyro_client.py URI CA [CERT KEY]
        the same over TLS straight to a gate with a tls layer (Pyro4.config.SSL,
        SSL_CACERTS, SSL_CLIENTCERT, SSL_CLIENTKEY; Pyro4 checks the URI's
        host against the gate's certificate); without CERT and KEY the gate
        must refuse ("ok refused")
Prints "ok ..." and exits 0 on success.
"""
import json
import ssl
import sys

import Pyro4


def main():
    uri = sys.argv[1]
    if len(sys.argv) > 2:
        Pyro4.config.SSL = True
        Pyro4.config.SSL_CACERTS = sys.argv[2]
        if len(sys.argv) > 4:
            Pyro4.config.SSL_CLIENTCERT = sys.argv[3]
            Pyro4.config.SSL_CLIENTKEY = sys.argv[4]
        else:
            try:
                with Pyro4.Proxy(uri) as echo:
                    echo.echo("hello")
            except (Pyro4.errors.CommunicationError, ssl.SSLError, ConnectionError, OSError) as e:
                print("ok refused", type(e).__name__, e)
                return
            print("reached the backend without a client certificate")
            sys.exit(1)
    with Pyro4.Proxy(uri) as echo:
        assert echo.echo("hello") == "hello"
        assert echo.echo(list(range(1000))) == list(range(1000))
        credentials = echo.whoami()
        counter = echo.new_counter()  # its URI carries the daemon's NAT address
        assert str(counter._pyroUri.location) == str(echo._pyroUri.location), counter._pyroUri
        assert counter.increment() == 1 and counter.increment() == 2
    print("ok pyro", json.dumps(credentials))


if __name__ == "__main__":
    main()
