from ktrdr_dashboards.cli import main

raise SystemExit(main())
