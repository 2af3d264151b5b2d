"""The job kit operations are written with: input contract, job context, progress and result shapes."""
