from wastelink.cli import main

main()
