package main

import (
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// publicBase is the scheme and host that a page puts in the links and
// commands it hands out (the lab share link, the cross-site lab's two
// sites, the lessons' curl commands; the join box uses the configuration
// alone, joinBox). It is the host the request named only when
// that is one this server knows it is reachable as, so a learner on
// localhost:8080 gets localhost:8080 and one on 127.0.0.1:8080 gets that;
// any other Host header (a forged one, a DNS rebinding name) gets the
// configured address instead and never reaches a page. One rule, here.
func (a *app) publicBase(c *fiber.Ctx) string {
	scheme, host := c.Protocol(), strings.ToLower(c.Hostname())
	if a.knownHosts()[withPort(host, scheme)] {
		return scheme + "://" + host
	}
	return a.configuredBase()
}

// configuredBase is where the server says it is when the request's host is
// not a known one: the -join-url's origin, else the listener's address.
func (a *app) configuredBase() string {
	if u, err := url.Parse(a.cfg.JoinURL); err == nil && a.cfg.JoinURL != "" && u.Host != "" {
		return u.Scheme + "://" + u.Host
	}
	if b := a.baseURL.Load(); b != nil && *b != "" {
		return *b
	}
	return "http://" + a.cfg.Addr
}

// knownHosts lists, as host:port, the names this server is reachable as:
// its listen address (every interface address when it listens on all of
// them), the loopback names with its port, and the -join-url's host.
// Computed once, after the listener is up.
func (a *app) knownHosts() map[string]bool {
	a.hostsOnce.Do(func() {
		known := map[string]bool{}
		add := func(hostport string) { known[strings.ToLower(hostport)] = true }
		listen := strings.TrimPrefix(a.configuredListen(), "http://")
		if _, port, err := net.SplitHostPort(listen); err == nil {
			add(listen)
			for _, h := range []string{"localhost", "127.0.0.1", "::1"} {
				add(net.JoinHostPort(h, port))
			}
			if a.listensOnAll() {
				if addrs, err := net.InterfaceAddrs(); err == nil {
					for _, ad := range addrs {
						if ipn, ok := ad.(*net.IPNet); ok {
							add(net.JoinHostPort(ipn.IP.String(), port))
						}
					}
				}
				if name, err := os.Hostname(); err == nil && name != "" {
					add(net.JoinHostPort(name, port))
				}
			}
		}
		if u, err := url.Parse(a.cfg.JoinURL); err == nil && a.cfg.JoinURL != "" && u.Host != "" {
			add(withPort(u.Host, u.Scheme))
		}
		a.hosts = known
	})
	return a.hosts
}

// configuredListen is the listener's address once known, else -addr.
func (a *app) configuredListen() string {
	if b := a.baseURL.Load(); b != nil && *b != "" {
		return *b
	}
	return a.cfg.Addr
}

// listensOnAll reports whether -addr names no particular interface
// (":8080", "0.0.0.0:8080", "[::]:8080"): the class reaches the server on
// whichever address the machine has.
func (a *app) listensOnAll() bool {
	host, _, err := net.SplitHostPort(a.cfg.Addr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return host == "" || ip != nil && ip.IsUnspecified()
}

// withPort adds the scheme's default port to a host that names none.
func withPort(host, scheme string) string {
	if _, _, err := net.SplitHostPort(host); err == nil {
		return host
	}
	port := 80
	if scheme == "https" {
		port = 443
	}
	return net.JoinHostPort(strings.Trim(host, "[]"), strconv.Itoa(port))
}
