import sys

from thirdai_platform.migrate.cli import main

sys.exit(main())
