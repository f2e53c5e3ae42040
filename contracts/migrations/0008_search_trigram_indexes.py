from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("contracts", "0007_signed_documents")]

    # Its trigram indexes were replaced by the firm-tagged bigram indexes of the next search migration, which
    # drops them where they were made.
    operations = []
