"""The tracker's database: models, migrations, sessions and the query and command functions."""
