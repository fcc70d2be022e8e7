from hpmon.cli import main

main()
