small = Dataset()
small.PatientAge = ds.PatientAge
small.ImageType = ds.ImageType
as_json = small.to_json_dict()
print(pretty_json(as_json))
expect_value("00101010 PatientAge", as_json["00101010"], {"vr": "AS", "Value": ["024Y"]})
