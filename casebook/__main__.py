from casebook.cli.main import main

main()
