import sys

from tfface.cli.main import main

sys.exit(main())
