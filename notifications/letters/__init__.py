"""Letters to parents: the kinds of letter (``kinds``), the extra fields a sender gives
(``fields``) and rendering to HTML (``render``); ``notifications.pdf`` makes the PDF and
``workflows.letters`` stores and sends them."""
