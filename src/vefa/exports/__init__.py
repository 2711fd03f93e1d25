"""Exporting lists to CSV and XLSX, the lossless JSON Lines export, and scheduled exports."""
