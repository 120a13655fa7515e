from . import aia_session
