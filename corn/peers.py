"""Which peers an allow-list admits (`forwarded_allow_ips`, `proxy_allow_ips`).

Shared by the configuration, which builds the lists in the master, and the workers, which ask
them once per peer address. It imports nothing of corn, so either side may import it.

Plane: shared (imports no other plane, so both may import it).
"""

import ipaddress


class AnyNetwork(tuple):
    """What `*` in an allow-list means: every IPv4 and IPv6 address.

    It is a tuple of the two all-covering networks, so code that loops over networks works
    unchanged, and it is one object (`ANY_NETWORK`), so code can test `networks is ANY_NETWORK`.
    """

    def __repr__(self):
        return "ANY_NETWORK"


ANY_NETWORK = AnyNetwork((ipaddress.ip_network("0.0.0.0/0"), ipaddress.ip_network("::/0")))


def allow_networks(items):
    """An allow-list's items as ip_network objects, or ANY_NETWORK for '*'."""
    if "*" in items:
        return ANY_NETWORK
    return [ipaddress.ip_network(item) for item in items]


def address_allowed(networks, host):
    """Whether a peer address is in `networks`; peers without an IP (Unix sockets) always are."""
    if networks is ANY_NETWORK:
        return True
    try:
        ip = ipaddress.ip_address(host)
    except (TypeError, ValueError):
        return True
    return any(ip in network for network in networks)
