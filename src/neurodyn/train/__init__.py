"""The one training harness: Lightning modules, seeding, checkpoint/resume."""
