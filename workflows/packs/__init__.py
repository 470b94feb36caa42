"""The pre-court pack: assembly from the case record, the completeness check, the bundle."""
