"""The app layer: command line and live window. Only this package reads arguments and
files, prints, and exits; library stages never import it."""
