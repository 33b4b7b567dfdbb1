[study] = search("studies", StudyInstanceUID=study_uid, includefield="NumberOfStudyRelatedInstances")
expect_value("NumberOfStudyRelatedInstances", study.NumberOfStudyRelatedInstances, 3)
