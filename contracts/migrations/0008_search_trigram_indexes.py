from django.db import migrations

from renocrm.search import trigram_indexes


class Migration(migrations.Migration):
    dependencies = [("contracts", "0007_signed_documents")]

    operations = [
        trigram_indexes(
            ("contracts_contract", "number", True),
            ("contracts_project", "name", True),
        )
    ]
