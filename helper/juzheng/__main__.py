from juzheng.cli.main import main

raise SystemExit(main())
