from mimicast.cli.main import app

app()
