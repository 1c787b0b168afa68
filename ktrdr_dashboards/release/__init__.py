"""Releases: the reproducible tarball and its manifest (`package`, `publish`), reading an
untrusted tarball within hard limits (`archive`), SSH signatures (`signing`), and installing
into a Grafana host with a lock and a crash journal (`install`, `journal`); `release`,
`verify`, `install` (`commands`). Imports build, validate, compile and atomic."""
