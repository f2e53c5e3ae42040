from django.db import migrations

from renocrm.search import install_finders


class Migration(migrations.Migration):
    dependencies = [("contracts", "0010_search_bigram_indexes"), ("leads", "0008_search_finders")]

    operations = [
        install_finders(("contracts_contract", "number", "finds"), ("contracts_project", "name", "finds")),
    ]
