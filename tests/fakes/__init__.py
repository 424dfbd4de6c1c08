"""Wire-protocol fakes of external services, for tests.

Each fake is a real network server on loopback that speaks the service's own
protocol, so the unmodified client library talks to it exactly as it would to
the real service. Nothing here patches library code.
"""
