from kbctl.cli import main

main()
