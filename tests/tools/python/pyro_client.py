"""An unmodified Pyro4 client through `authchain tunnel`.

    pyro_client.py URI     calls echo, whoami and a proxy the daemon returned
Prints "ok ..." and exits 0 on success.
"""
import json
import sys

import Pyro4


def main():
    uri = sys.argv[1]
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
