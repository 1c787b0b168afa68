"""Compiling: Jsonnet sources to dashboard models (`dashboards`, a process pool for many),
provisioning files read and checked (`provisioning`), and everything one build evaluates in
memory (`output`: dashboards, shared config and rule files, Kubernetes resources).
Imports the engine seam, project and alerting.rules; never validate,
build, release or cli."""
