by_series = {}
for name, sample_ds in datasets.items():
    by_series.setdefault(sample_ds.SeriesInstanceUID, []).append(name)
for uid, names in by_series.items():
    print(f"series …{uid[-8:]}: {sorted(names)}, SeriesNumber {datasets[names[0]].SeriesNumber}")
expect_value("instances per series", sorted(sorted(names) for names in by_series.values()),
             [["blue-circle"], ["green-square", "red-triangle"]])
